#include "agent_name.h"

#include <cctype>

#include "errors.h"
#include "files.h"
#include "text.h"

namespace nova {
namespace {

constexpr std::string_view kAgentPrefix = "nova-agent-";
constexpr std::string_view kServiceSuffix = ".service";

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

// One character of a refused name, for the error: never the raw byte, which
// may be a control code or half of a UTF-8 sequence.
std::string Describe(char c) {
  if (static_cast<unsigned char>(c) >= 0x80) return "a non-ASCII character";
  if (auto control = FindControl(std::string_view(&c, 1))) return *control;
  return "'" + std::string(1, c) + "'";
}

}  // namespace

void ValidateAgentName(std::string_view name) {
  auto fail = [&](std::string_view why) {
    throw Error(ErrorKind::kInvalidArgument,
                "agent name \"" + Printable(TruncateUtf8(name, kMaxAgentNameLength + 16)) +
                    "\": " + std::string(why) +
                    "; use 1-64 letters, digits, '-' or '_', starting with a "
                    "letter or digit");
  };
  if (name.empty()) fail("empty");
  if (name.size() > kMaxAgentNameLength) {
    fail("too long (" + std::to_string(name.size()) + " characters)");
  }
  if (!std::isalnum(static_cast<unsigned char>(name[0]))) {
    fail("starts with " + Describe(name[0]));
  }
  for (char c : name) {
    if (!IsNameChar(c)) fail("contains " + Describe(c));
  }
}

std::string AgentUnit(std::string_view name) {
  return std::string(kAgentPrefix) + std::string(name) + std::string(kServiceSuffix);
}

std::string AgentCgroupPath(std::string_view name) {
  return std::string(kAgentsCgroup) + "/" + AgentUnit(name);
}

std::string SoftTimerUnit(std::string_view name) {
  return "nova-soft-" + std::string(name) + ".timer";
}

std::string SoftServiceUnit(std::string_view name) {
  return "nova-soft-" + std::string(name) + ".service";
}

std::string OutcomeUnitOnSuccess(std::string_view name) {
  return "nova-outcome-success@" + std::string(name) + ".service";
}

std::string OutcomeUnitOnFailure(std::string_view name) {
  return "nova-outcome-failure@" + std::string(name) + ".service";
}

std::optional<std::string> AgentNameFromUnit(std::string_view unit) {
  if (!unit.starts_with(kAgentPrefix) || !unit.ends_with(kServiceSuffix)) {
    return std::nullopt;
  }
  unit.remove_prefix(kAgentPrefix.size());
  unit.remove_suffix(kServiceSuffix.size());
  if (unit.empty() || unit.size() > kMaxAgentNameLength ||
      !std::isalnum(static_cast<unsigned char>(unit[0]))) {
    return std::nullopt;
  }
  for (char c : unit) {
    if (!IsNameChar(c)) return std::nullopt;
  }
  return std::string(unit);
}

std::optional<std::string> AgentOfCgroup(std::string_view cgroup) {
  bool inside = false;
  while (!cgroup.empty()) {
    size_t start = cgroup.find_first_not_of('/');
    if (start == std::string_view::npos) break;
    cgroup.remove_prefix(start);
    size_t end = cgroup.find('/');
    std::string_view segment = cgroup.substr(0, end);
    if (inside) return AgentNameFromUnit(segment).value_or("");
    if (segment == kAgentsSlice) inside = true;
    if (end == std::string_view::npos) break;
    cgroup.remove_prefix(end);
  }
  if (inside) return std::string();
  return std::nullopt;
}

std::string CgroupFromProcCgroup(std::string_view text) {
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (line.starts_with("0::")) return std::string(line.substr(3));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return "";
}

std::string ProcessCgroup(int pid) {
  return CgroupFromProcCgroup(ReadFile("/proc/" + std::to_string(pid) + "/cgroup").value_or(""));
}

}  // namespace nova
