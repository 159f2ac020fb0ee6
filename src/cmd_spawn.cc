#include <unistd.h>

#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "duration.h"
#include "errors.h"
#include "json_output.h"
#include "nova_client.h"
#include "size.h"
#include "text.h"

namespace nova {
namespace {

namespace fs = std::filesystem;

// Like systemd-run: the command is found on novactl's PATH, so that the
// agent runs what the caller would have run.
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
std::pair<std::string, std::string> ReadSecret(const std::string& spec, bool& stdin_taken) {
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
    value << std::cin.rdbuf();
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

struct SpawnOptions {
  std::string name, workdir, memory, tasks, timeout, soft_timeout, user;
  std::vector<std::string> environment, secrets, command;
  bool json = false;
};

void RunSpawn(const SpawnOptions& o) {
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
  bool stdin_taken = false;
  for (const auto& spec : o.secrets) {
    auto [name, value] = ReadSecret(spec, stdin_taken);
    if (!request.secrets.emplace(name, std::move(value)).second) {
      throw Error(ErrorKind::kInvalidArgument,
                  "--secret " + Printable(name) + ": given twice; each secret name once");
    }
  }

  NovaClient client;
  SpawnResult r = client.Spawn(request);
  if (o.json) {
    std::cout << JsonText({{"name", o.name},
                           {"unit", r.unit},
                           {"state", r.active_state},
                           {"sub_state", r.sub_state},
                           {"main_pid", r.main_pid}},
                          2)
              << std::endl;
  } else {
    std::cout << "Started agent " << o.name << " as " << r.unit << " (" << r.active_state << "/"
              << r.sub_state << ", main PID " << r.main_pid << ")." << std::endl;
  }
}

}  // namespace

void AddSpawnCommand(CLI::App& app) {
  auto o = std::make_shared<SpawnOptions>();
  CLI::App* cmd = app.add_subcommand(
      "spawn", "Start an agent in its own transient unit, nova-agent-NAME.service");
  cmd->footer(
      "\nLimits default to the keys of /etc/nova/nova.conf (the file shows each one's\n"
      "shipped default): MemoryMax (never any swap), TasksMax, RuntimeMax (then SIGTERM\n"
      "to every process, SIGKILL after TimeoutStop) and SoftTimeout (SIGUSR1 to the\n"
      "main process). Only root may ask for more than the ceilings there\n"
      "(MemoryMaxCeiling, TasksMaxCeiling, RuntimeMaxCeiling). The agent runs as you;\n"
      "root may name another user. CODER_PROC_* variables are never passed to agents.\n"
      "--env values are visible to every local user: pass tokens with --secret. A call\n"
      "from inside an agent is refused: agents cannot manage agents.\n\n"
      "Example, in a workspace slot of your own (see novactl setup-host --help):\n"
      "  mkdir -m 700 /var/nova-agents/pool/ws-001\n"
      "  novactl spawn agent-001 --workdir /var/nova-agents/pool/ws-001 -- cargo build");
  cmd->add_option("name", o->name, "Agent name: 1-64 letters, digits, '-' or '_'")->required();
  cmd->add_option("--workdir,-w", o->workdir, "Working directory of the agent")->required();
  cmd->add_option("--memory,-m", o->memory, "Memory limit, e.g. 2G or 512M (MemoryMax; no swap)");
  cmd->add_option("--tasks", o->tasks, "Maximum processes and threads (TasksMax)");
  cmd->add_option("--timeout", o->timeout, "Hard timeout, e.g. 30m (RuntimeMaxSec)");
  cmd->add_option("--soft-timeout", o->soft_timeout,
                  "When to send SIGUSR1 to the main process, e.g. 15m; 0 for never");
  // One value per --env, so that `--env A=1 -- cmd` keeps the -- for the command.
  cmd->add_option("--env,-e", o->environment,
                  "Set NAME=VALUE in the agent (repeatable); visible to every local user "
                  "(systemctl show): use --secret for tokens")
      ->allow_extra_args(false);
  cmd->add_option("--secret,-s", o->secrets,
                  "Hand the agent a secret, NAME=@FILE or NAME=@- (stdin): it reads "
                  "$CREDENTIALS_DIRECTORY/NAME; no other user can (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--user,-u", o->user, "Run as this user (root only, for other users)");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->add_option("command", o->command, "The command and its arguments, after --");
  cmd->callback([o] { RunSpawn(*o); });
}

}  // namespace nova
