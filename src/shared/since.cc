#include "since.h"

#include <time.h>

#include <cctype>
#include <charconv>
#include <string>

#include "duration.h"
#include "errors.h"
#include "text.h"

namespace nova {
namespace {

constexpr int64_t kSecond = 1000000;

// "10 minutes" -> "10min": journalctl's long unit names, and spaces between
// a number and its unit.
std::optional<std::string> DurationText(std::string_view text) {
  static constexpr std::pair<std::string_view, std::string_view> kLong[] = {
      {"seconds", "s"}, {"second", "s"}, {"minutes", "min"}, {"minute", "min"}, {"mins", "min"},
      {"hours", "h"},   {"hour", "h"},   {"days", "d"},      {"day", "d"},
  };
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    size_t start = i;
    if (std::isdigit(static_cast<unsigned char>(text[i]))) {
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    } else if (std::isalpha(static_cast<unsigned char>(text[i]))) {
      while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    } else {
      return std::nullopt;
    }
    std::string_view word = text.substr(start, i - start);
    for (const auto& [name, unit] : kLong) {
      if (word == name) word = unit;
    }
    out += word;
  }
  // A bare number is seconds to ParseDuration; here a unit is asked for.
  if (out.empty() || !std::isalpha(static_cast<unsigned char>(out.back()))) return std::nullopt;
  return out;
}

int64_t LocalMidnight(int64_t now_usec) {
  time_t now = static_cast<time_t>(now_usec / kSecond);
  tm local{};
  localtime_r(&now, &local);
  local.tm_hour = local.tm_min = local.tm_sec = 0;
  local.tm_isdst = -1;
  return static_cast<int64_t>(mktime(&local)) * kSecond;
}

// "YYYY-MM-DD[( |T)HH:MM[:SS]][Z]" or "HH:MM[:SS]" (today).
std::optional<int64_t> Absolute(std::string_view text, int64_t now_usec) {
  bool utc = !text.empty() && text.back() == 'Z';
  if (utc) text.remove_suffix(1);
  std::string s(text);
  tm when{};
  const char* end = nullptr;
  for (const char* format :
       {"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"}) {
    when = tm{};
    end = strptime(s.c_str(), format, &when);
    if (end && *end == '\0') break;
    end = nullptr;
  }
  if (!end) {
    for (const char* format : {"%H:%M:%S", "%H:%M"}) {
      when = tm{};
      end = strptime(s.c_str(), format, &when);
      if (end && *end == '\0') break;
      end = nullptr;
    }
    if (!end || utc) return std::nullopt;
    int64_t midnight = LocalMidnight(now_usec);
    return midnight + (when.tm_hour * 3600 + when.tm_min * 60 + when.tm_sec) * kSecond;
  }
  when.tm_isdst = -1;
  time_t t = utc ? timegm(&when) : mktime(&when);
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  return static_cast<int64_t>(t) * kSecond;
}

}  // namespace

std::optional<int64_t> ParseSince(std::string_view text, int64_t now_usec) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  if (text == "now") return now_usec;
  if (text == "today") return LocalMidnight(now_usec);
  if (text == "yesterday") return LocalMidnight(LocalMidnight(now_usec) - 12 * 3600 * kSecond);
  if (text.front() == '@') {
    text.remove_prefix(1);
    int64_t seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc() || end != text.data() + text.size() || seconds < 0) return std::nullopt;
    return seconds * kSecond;
  }
  std::optional<std::string_view> ago;
  if (text.front() == '-') {
    ago = text.substr(1);
  } else if (text.size() > 4 && text.substr(text.size() - 4) == " ago") {
    ago = text.substr(0, text.size() - 4);
  }
  if (ago) {
    auto duration_text = DurationText(*ago);
    if (!duration_text) return std::nullopt;
    auto duration = ParseDuration(*duration_text);
    if (!duration) return std::nullopt;
    return now_usec - duration->count();
  }
  return Absolute(text, now_usec);
}

int64_t ParseSinceOrThrow(std::string_view what, std::string_view text, int64_t now_usec) {
  if (auto t = ParseSince(text, now_usec)) return *t;
  throw Error(ErrorKind::kInvalidArgument,
              std::string(what) + " \"" + Printable(text) +
                  "\": not a time; use e.g. \"10 min ago\", -1h, \"2024-05-01 12:00\", "
                  "2024-05-01T12:00:00Z, 12:00, today, yesterday or @SECONDS");
}

}  // namespace nova
