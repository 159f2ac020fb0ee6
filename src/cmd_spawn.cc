#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "duration.h"
#include "errors.h"
#include "nova_client.h"
#include "size.h"

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
              "command \"" + command + "\": not found on PATH; give its full path");
}

uint64_t ParseCountOrThrow(const std::string& what, const std::string& text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw Error(ErrorKind::kInvalidArgument,
                what + " \"" + text + "\": not a count; use a whole number such as 512");
  }
  return value;
}

struct SpawnOptions {
  std::string name, workdir, memory, tasks, timeout, soft_timeout, user;
  std::vector<std::string> environment, command;
  bool json = false;
};

void RunSpawn(const SpawnOptions& o) {
  SpawnRequest request;
  request.name = o.name;
  request.argv = o.command;
  if (request.argv.empty()) {
    throw Error(ErrorKind::kInvalidArgument,
                "no command given; put it after --, e.g. novactl spawn " + o.name +
                    " --workdir DIR -- cargo build");
  }
  request.argv[0] = ResolveCommand(o.command[0]);
  fs::path workdir = fs::absolute(o.workdir).lexically_normal();
  if (!fs::is_directory(workdir)) {
    throw Error(ErrorKind::kInvalidArgument,
                "--workdir \"" + o.workdir + "\": not an existing directory");
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

  NovaClient client;
  SpawnResult r = client.Spawn(request);
  if (o.json) {
    std::cout << nlohmann::json{{"name", o.name},
                                {"unit", r.unit},
                                {"state", r.active_state},
                                {"sub_state", r.sub_state},
                                {"main_pid", r.main_pid}}
                     .dump(2)
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
      "\nLimits default to /etc/nova/nova.conf (4G memory, no swap, 512 tasks, 30min\n"
      "hard timeout with SIGTERM to every process then SIGKILL after 10s, SIGUSR1 to\n"
      "the main process at the 15min soft deadline). Only root may ask for more than\n"
      "the ceilings there (MemoryMaxCeiling, TasksMaxCeiling, RuntimeMaxCeiling). The\n"
      "agent runs as you; root may name another user. CODER_PROC_* variables are never\n"
      "passed to agents.\n\n"
      "Example:\n  novactl spawn agent-001 --workdir /var/nova-agents/active/ws-001 -- cargo "
      "build");
  cmd->add_option("name", o->name, "Agent name: 1-64 letters, digits, '-' or '_'")->required();
  cmd->add_option("--workdir,-w", o->workdir, "Working directory of the agent")->required();
  cmd->add_option("--memory,-m", o->memory, "Memory limit, e.g. 4G (MemoryMax; no swap)");
  cmd->add_option("--tasks", o->tasks, "Maximum processes and threads (TasksMax)");
  cmd->add_option("--timeout", o->timeout, "Hard timeout, e.g. 30m (RuntimeMaxSec)");
  cmd->add_option("--soft-timeout", o->soft_timeout,
                  "When to send SIGUSR1 to the main process, e.g. 15m; 0 for never");
  // One value per --env, so that `--env A=1 -- cmd` keeps the -- for the command.
  cmd->add_option("--env,-e", o->environment, "Set NAME=VALUE in the agent (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--user,-u", o->user, "Run as this user (root only, for other users)");
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->add_option("command", o->command, "The command and its arguments, after --");
  cmd->callback([o] { RunSpawn(*o); });
}

}  // namespace nova
