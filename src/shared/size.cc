#include "size.h"

#include <cctype>
#include <cmath>
#include <cstdio>

#include "errors.h"
#include "text.h"

namespace nova {

std::optional<uint64_t> ParseSize(std::string_view text) {
  if (text == "infinity") return kInfinity;
  size_t i = 0;
  uint64_t whole = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    uint64_t digit = text[i] - '0';
    if (whole > (kInfinity - digit) / 10) return std::nullopt;
    whole = whole * 10 + digit;
    ++i;
  }
  if (i == 0) return std::nullopt;
  double fraction = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    double scale = 0.1;
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      fraction += (text[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return std::nullopt;
  }
  std::string_view unit = text.substr(i);
  int shift = 0;
  if (!unit.empty()) {
    switch (std::toupper(static_cast<unsigned char>(unit[0]))) {
      case 'B':
        shift = 0;
        break;
      case 'K':
        shift = 10;
        break;
      case 'M':
        shift = 20;
        break;
      case 'G':
        shift = 30;
        break;
      case 'T':
        shift = 40;
        break;
      default:
        return std::nullopt;
    }
    std::string_view rest = unit.substr(1);
    bool ok = rest.empty() || (shift > 0 && (rest == "B" || rest == "iB"));
    if (!ok) return std::nullopt;
  }
  if (shift == 0 && fraction != 0) return std::nullopt;  // no fractional bytes
  if (shift > 0 && whole > (kInfinity >> shift)) return std::nullopt;
  uint64_t bytes = whole << shift;
  uint64_t extra =
      static_cast<uint64_t>(std::llround(fraction * static_cast<double>(1ULL << shift)));
  if (bytes > kInfinity - extra) return std::nullopt;
  bytes += extra;
  if (bytes == kInfinity) return std::nullopt;  // reserved for "infinity"
  return bytes;
}

uint64_t ParseSizeOrThrow(std::string_view what, std::string_view text) {
  if (auto bytes = ParseSize(text)) return *bytes;
  throw Error(ErrorKind::kInvalidArgument,
              std::string(what) + " \"" + Printable(text) +
                  "\": not a size; use a number with an optional K, M, G or "
                  "T suffix (powers of 1024), e.g. 4G or 512M");
}

std::string FormatSize(uint64_t bytes) {
  if (bytes == kInfinity) return "infinity";
  static constexpr const char* kUnits[] = {"B", "K", "M", "G", "T", "P"};
  int unit = 0;
  double value = static_cast<double>(bytes);
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  double rounded = std::round(value * 10) / 10;
  char buf[32];
  if (unit == 0 || rounded >= 100 || rounded == std::floor(rounded)) {
    std::snprintf(buf, sizeof buf, "%.0f%s", std::round(rounded), kUnits[unit]);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f%s", rounded, kUnits[unit]);
  }
  return buf;
}

}  // namespace nova
