#include "duration.h"

#include <time.h>

#include <cctype>
#include <cstdint>
#include <cstdio>

#include "errors.h"
#include "text.h"

namespace nova {
namespace {

struct Unit {
  std::string_view name;
  int64_t usec;
};

constexpr Unit kUnits[] = {
    {"us", 1},       {"ms", 1000},       {"sec", 1000000},  {"s", 1000000},     {"min", 60000000},
    {"m", 60000000}, {"hr", 3600000000}, {"h", 3600000000}, {"d", 86400000000},
};

}  // namespace

std::optional<Usec> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    size_t start = i;
    int64_t number = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (number > (INT64_MAX - 9) / 10) return std::nullopt;
      number = number * 10 + (text[i] - '0');
      ++i;
    }
    if (i == start) return std::nullopt;
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) {
      ++i;
    }
    std::string_view unit = text.substr(unit_start, i - unit_start);
    int64_t scale = 0;
    if (unit.empty()) {
      if (start != 0 || i != text.size()) return std::nullopt;  // "90" only
      scale = 1000000;
    }
    for (const auto& u : kUnits) {
      if (u.name == unit) scale = u.usec;
    }
    if (scale == 0) return std::nullopt;
    if (number > (INT64_MAX - total) / scale) return std::nullopt;
    total += number * scale;
  }
  return Usec(total);
}

Usec ParseDurationOrThrow(std::string_view what, std::string_view text) {
  if (auto d = ParseDuration(text)) return *d;
  throw Error(ErrorKind::kInvalidArgument, std::string(what) + " \"" + Printable(text) +
                                               "\": not a duration; use e.g. 90s, 15m, 1h30m or 2d "
                                               "(a bare number is seconds)");
}

std::string FormatDuration(Usec duration) {
  int64_t us = duration.count();
  if (us == 0) return "0";
  std::string out;
  if (us < 0) {
    out = "-";
    us = -us;
  }
  if (us < 60000000) {  // under a minute: one decimal of seconds
    char buf[32];
    if (us % 1000000 == 0) {
      std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(us / 1000000));
    } else if (us < 1000000) {
      std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(us / 1000));
    } else {
      std::snprintf(buf, sizeof buf, "%.1fs", us / 1e6);
    }
    return out + buf;
  }
  int64_t seconds = us / 1000000;
  const struct {
    int64_t size;
    const char* name;
  } parts[] = {{86400, "d"}, {3600, "h"}, {60, "min"}, {1, "s"}};
  int shown = 0;
  for (const auto& p : parts) {
    if (seconds >= p.size && shown < 2) {
      if (!out.empty() && out != "-") out += ' ';
      out += std::to_string(seconds / p.size) + p.name;
      seconds %= p.size;
      ++shown;
    } else if (shown > 0) {
      ++shown;  // keep the two parts adjacent: "1h 0min" is not shown as "1h 5s"
    }
  }
  return out;
}

int64_t RealtimeUsec() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

}  // namespace nova
