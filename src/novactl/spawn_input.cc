#include "spawn_input.h"

#include <unistd.h>

#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "duration.h"
#include "errors.h"
#include "size.h"
#include "text.h"

namespace nova {
namespace fs = std::filesystem;
namespace {

uint64_t ParseCountOrThrow(const std::string& what, const std::string& text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw Error(ErrorKind::kInvalidArgument,
                what + " \"" + Printable(text) + "\": not a count; use a whole number such as 512");
  }
  return value;
}

// --secret NAME=@FILE or NAME=@- (standard input): read here, as the caller,
// so novad never opens a path a caller names.
std::pair<std::string, std::string> ReadSecret(const std::string& spec, bool& stdin_taken,
                                               std::istream& input) {
  size_t at = spec.find("=@");
  if (at == std::string::npos || at == 0) {
    throw Error(ErrorKind::kInvalidArgument,
                "--secret \"" + Printable(spec) +
                    "\": expected NAME=@FILE, or NAME=@- to read it from standard input");
  }
  std::string name = spec.substr(0, at), source = spec.substr(at + 2);
  std::ostringstream value;
  if (source == "-") {
    if (stdin_taken) {
      throw Error(ErrorKind::kInvalidArgument, "--secret " + Printable(name) +
                                                   "=@-: standard input is already read by another "
                                                   "--secret");
    }
    stdin_taken = true;
    value << input.rdbuf();
  } else {
    std::ifstream in(source, std::ios::binary);
    if (!in) {
      throw Error(ErrorKind::kInvalidArgument, "--secret " + Printable(name) + "=@" +
                                                   Printable(source) + ": cannot read " +
                                                   Printable(source) + ": " + std::strerror(errno));
    }
    value << in.rdbuf();
  }
  return {name, value.str()};
}

}  // namespace

std::string ResolveCommand(const std::string& command) {
  if (command.find('/') != std::string::npos) {
    return fs::absolute(command).lexically_normal().string();
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    fs::path candidate = fs::path(dirs.substr(start, end - start)) / command;
    if (end > start && access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate)) {
      return candidate.string();
    }
    start = end + 1;
  }
  throw Error(ErrorKind::kInvalidArgument,
              "command \"" + Printable(command) + "\": not found on PATH; give its full path");
}

SpawnRequest BuildSpawnRequest(const SpawnInput& o, std::istream& input) {
  SpawnRequest request;
  request.name = o.name;
  request.argv = o.command;
  if (request.argv.empty()) {
    throw Error(ErrorKind::kInvalidArgument,
                "no command given; put it after --, e.g. novactl spawn " + Printable(o.name) +
                    " --workdir DIR -- cargo build");
  }
  request.argv[0] = ResolveCommand(o.command[0]);
  fs::path workdir = fs::absolute(o.workdir).lexically_normal();
  if (!fs::is_directory(workdir)) {
    throw Error(ErrorKind::kInvalidArgument,
                "--workdir \"" + Printable(o.workdir) + "\": not an existing directory");
  }
  request.workdir = workdir.string();
  if (request.workdir.size() > 1 && request.workdir.back() == '/') request.workdir.pop_back();
  request.environment = o.environment;
  if (!o.memory.empty()) request.memory_max = ParseSizeOrThrow("--memory", o.memory);
  if (!o.tasks.empty()) request.tasks_max = ParseCountOrThrow("--tasks", o.tasks);
  if (!o.timeout.empty()) request.runtime_max = ParseDurationOrThrow("--timeout", o.timeout);
  if (!o.soft_timeout.empty()) {
    request.soft_timeout = ParseDurationOrThrow("--soft-timeout", o.soft_timeout);
  }
  if (!o.user.empty()) request.user = o.user;
  if (!o.sandbox.empty()) request.sandbox = o.sandbox;  // novad checks it against nova.conf
  request.allow_ip = o.allow_ip;
  bool stdin_taken = false;
  for (const auto& spec : o.secrets) {
    auto [name, value] = ReadSecret(spec, stdin_taken, input);
    if (!request.secrets.emplace(name, std::move(value)).second) {
      throw Error(ErrorKind::kInvalidArgument,
                  "--secret " + Printable(name) + ": given twice; each secret name once");
    }
  }
  return request;
}

}  // namespace nova
