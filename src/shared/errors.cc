#include "errors.h"

#include <array>
#include <utility>

namespace nova {
namespace {

constexpr std::string_view kPrefix = "org.nova.Nova1.Error.";

constexpr std::array<std::pair<ErrorKind, std::string_view>, 9> kNames = {{
    {ErrorKind::kFailed, "Failed"},
    {ErrorKind::kInvalidArgument, "InvalidArgument"},
    {ErrorKind::kAdmissionRefused, "AdmissionRefused"},
    {ErrorKind::kAlreadyRunning, "AlreadyRunning"},
    {ErrorKind::kNotFound, "NotFound"},
    {ErrorKind::kPermissionDenied, "PermissionDenied"},
    {ErrorKind::kSpawnFailed, "SpawnFailed"},
    {ErrorKind::kUnavailable, "Unavailable"},
    {ErrorKind::kBusy, "Busy"},
}};

}  // namespace

int ExitCodeFor(ErrorKind kind) { return static_cast<int>(kind) + 1; }

std::string DbusErrorNameFor(ErrorKind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return std::string(kPrefix) + std::string(name);
  }
  return std::string(kPrefix) + "Failed";
}

ErrorKind ErrorKindFromDbusName(std::string_view name) {
  if (name.starts_with(kPrefix)) {
    name.remove_prefix(kPrefix.size());
    for (const auto& [k, n] : kNames) {
      if (n == name) return k;
    }
  }
  if (name == "org.freedesktop.DBus.Error.AccessDenied") {
    return ErrorKind::kPermissionDenied;
  }
  if (name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
      name == "org.freedesktop.DBus.Error.NameHasNoOwner" ||
      name == "org.freedesktop.DBus.Error.NoReply" ||
      name == "org.freedesktop.DBus.Error.Timeout") {
    return ErrorKind::kUnavailable;
  }
  return ErrorKind::kFailed;
}

const char* const kExitCodeHelp =
    "Exit codes:\n"
    "  0  success\n"
    "  1  failure not covered below\n"
    "  2  invalid argument or usage\n"
    "  3  admission refused (host memory, agents or your agents at their limit)\n"
    "  4  an agent of that name is already running\n"
    "  5  no such agent\n"
    "  6  permission denied (including above an operator's ceiling)\n"
    "  7  the agent failed to start\n"
    "  8  novad or systemd unreachable\n"
    "  9  novad busy: too many calls at once (try again)\n";

}  // namespace nova
