#include "sandbox.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <charconv>

namespace nova {

std::optional<SandboxProfile> ParseSandboxProfile(std::string_view name) {
  if (name == "none") return SandboxProfile::kNone;
  if (name == "standard") return SandboxProfile::kStandard;
  if (name == "strict") return SandboxProfile::kStrict;
  return std::nullopt;
}

const char* SandboxProfileName(SandboxProfile profile) {
  switch (profile) {
    case SandboxProfile::kNone:
      return "none";
    case SandboxProfile::kStandard:
      return "standard";
    case SandboxProfile::kStrict:
      return "strict";
  }
  return "standard";
}

std::optional<std::vector<IpPrefix>> ParseAllowIp(std::string_view text) {
  if (text == "localhost") {
    return std::vector<IpPrefix>{{AF_INET, {127, 0, 0, 0}, 8},
                                 {AF_INET6, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128}};
  }
  std::string_view address = text;
  std::optional<uint32_t> length;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    address = text.substr(0, slash);
    std::string_view digits = text.substr(slash + 1);
    uint32_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
      return std::nullopt;
    }
    length = value;
  }
  IpPrefix prefix;
  unsigned char bytes[16] = {};
  std::string address_text(address);
  if (inet_pton(AF_INET, address_text.c_str(), bytes) == 1) {
    prefix.family = AF_INET;
    prefix.address.assign(bytes, bytes + 4);
  } else if (inet_pton(AF_INET6, address_text.c_str(), bytes) == 1) {
    prefix.family = AF_INET6;
    prefix.address.assign(bytes, bytes + 16);
  } else {
    return std::nullopt;
  }
  uint32_t bits = static_cast<uint32_t>(prefix.address.size() * 8);
  if (length && *length > bits) return std::nullopt;
  prefix.prefix_length = length.value_or(bits);
  for (uint32_t bit = prefix.prefix_length; bit < bits; ++bit) {
    prefix.address[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  return std::vector<IpPrefix>{prefix};
}

std::string FormatIpPrefix(const IpPrefix& prefix) {
  char text[INET6_ADDRSTRLEN] = {};
  if (prefix.address.size() != (prefix.family == AF_INET ? 4u : 16u) ||
      !inet_ntop(prefix.family, prefix.address.data(), text, sizeof text)) {
    return "?";
  }
  return std::string(text) + "/" + std::to_string(prefix.prefix_length);
}

}  // namespace nova
