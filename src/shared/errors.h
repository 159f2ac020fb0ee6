// One error type for everything a user can get wrong or Nova can fail at. The
// kind decides the exit code of novactl and the D-Bus error name novad replies
// with, so the same failure reads the same on both sides of the bus.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace nova {

enum class ErrorKind {
  kFailed,            // anything else; exit 1
  kInvalidArgument,   // bad input; exit 2
  kAdmissionRefused,  // host memory, agents or the user's agents at their limit; exit 3
  kAlreadyRunning,    // an agent of that name is live; exit 4
  kNotFound,          // no such agent; exit 5
  kPermissionDenied,  // the caller may not do this (or ask this much); exit 6
  kSpawnFailed,       // systemd could not start the agent; exit 7
  kUnavailable,       // novad or systemd cannot be reached; exit 8
  kBusy,              // novad holds as many calls as it queues (or the caller's share); exit 9
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

int ExitCodeFor(ErrorKind kind);
std::string DbusErrorNameFor(ErrorKind kind);
ErrorKind ErrorKindFromDbusName(std::string_view name);

// The exit-code table as shown by `novactl --help` and in the man page.
extern const char* const kExitCodeHelp;

}  // namespace nova
