#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "json_output.h"
#include "nova_client.h"
#include "spawn_input.h"

namespace nova {
namespace {

struct SpawnOptions {
  SpawnInput input;
  bool json = false;
};

void RunSpawn(const SpawnOptions& o) {
  SpawnRequest request = BuildSpawnRequest(o.input, std::cin);
  NovaClient client;
  SpawnResult r = client.Spawn(request);
  if (o.json) {
    std::cout << JsonText({{"name", o.input.name},
                           {"unit", r.unit},
                           {"state", r.active_state},
                           {"sub_state", r.sub_state},
                           {"main_pid", r.main_pid}},
                          2)
              << std::endl;
  } else {
    std::cout << "Started agent " << o.input.name << " as " << r.unit << " (" << r.active_state
              << "/" << r.sub_state << ", main PID " << r.main_pid << ")." << std::endl;
  }
}

}  // namespace

const char* const kSpawnLimitsHelp =
    "\nLimits default to the keys of /etc/nova/nova.conf (the file shows each one's\n"
    "shipped default): MemoryMax (never any swap), TasksMax, RuntimeMax (then SIGTERM\n"
    "to every process, SIGKILL after TimeoutStop) and SoftTimeout (SIGUSR1 to the\n"
    "main process). Only root may ask for more than the ceilings there\n"
    "(MemoryMaxCeiling, TasksMaxCeiling, RuntimeMaxCeiling). The agent runs as you;\n"
    "root may name another user. CODER_PROC_* variables are never passed to agents.\n"
    "--env values are visible to every local user: pass tokens with --secret. A call\n"
    "from inside an agent is refused: agents cannot manage agents.\n\n"
    "To start many agents at once, run novactl spawn in parallel (xargs -P 8): novad\n"
    "runs 4 calls of one user at a time (root: no such bound) and refuses more at\n"
    "once; novactl asks again for up to 60 s (saying so on stderr after 3 s), then\n"
    "exits 9. A refused call holds nothing in novad.\n\n"
    "Sandbox profiles (--sandbox, default Sandbox in nova.conf, standard as shipped):\n"
    "  none      no isolation beyond the limits, for trusted work\n"
    "  standard  no privileges, its own /tmp (also its HOME), the system read-only and\n"
    "            writable only in the workdir and /var/nova-agents/scratch, every home\n"
    "            hidden, no system bus, kernel knobs, modules, logs or devices; network\n"
    "  strict    standard, plus no network but AllowIP in nova.conf and --allow-ip,\n"
    "            and of /srv, /mnt, /media and /var/nova-agents only the workdir\n"
    "Only root may pick a profile weaker than SandboxMinimum, or add --allow-ip when\n"
    "SandboxMinimum is strict. novactl status NAME shows the profile and its\n"
    "systemd-analyze security exposure.\n";

void AddSpawnOptions(CLI::App& cmd, SpawnInput& input) {
  cmd.add_option("name", input.name, "Agent name: 1-64 letters, digits, '-' or '_'")->required();
  cmd.add_option("--workdir,-w", input.workdir, "Working directory of the agent")->required();
  cmd.add_option("--memory,-m", input.memory, "Memory limit, e.g. 2G or 512M (MemoryMax; no swap)");
  cmd.add_option("--tasks", input.tasks, "Maximum processes and threads (TasksMax)");
  cmd.add_option("--timeout", input.timeout, "Hard timeout, e.g. 30m (RuntimeMaxSec)");
  cmd.add_option("--soft-timeout", input.soft_timeout,
                 "When to send SIGUSR1 to the main process, e.g. 15m; 0 for never");
  // One value per --env, so that `--env A=1 -- cmd` keeps the -- for the command.
  cmd.add_option("--env,-e", input.environment,
                 "Set NAME=VALUE in the agent (repeatable); visible to every local user "
                 "(systemctl show): use --secret for tokens")
      ->allow_extra_args(false);
  cmd.add_option("--secret,-s", input.secrets,
                 "Hand the agent a secret, NAME=@FILE or NAME=@- (stdin): it reads "
                 "$CREDENTIALS_DIRECTORY/NAME; no other user can (repeatable)")
      ->allow_extra_args(false);
  cmd.add_option("--user,-u", input.user, "Run as this user (root only, for other users)");
  cmd.add_option("--sandbox", input.sandbox,
                 "Sandbox profile: none, standard or strict (default: Sandbox in nova.conf)");
  cmd.add_option("--allow-ip", input.allow_ip,
                 "With --sandbox strict: an address the agent may reach, ADDR[/LENGTH] or "
                 "localhost, besides AllowIP in nova.conf (repeatable)")
      ->allow_extra_args(false);
  cmd.add_option("command", input.command, "The command and its arguments, after --");
}

void AddSpawnCommand(CLI::App& app) {
  auto o = std::make_shared<SpawnOptions>();
  CLI::App* cmd = app.add_subcommand(
      "spawn", "Start an agent in its own transient unit, nova-agent-NAME.service");
  cmd->footer(std::string(kSpawnLimitsHelp) +
              "\nExample, in a workspace slot of your own (see novactl setup-host --help):\n"
              "  mkdir -m 700 /var/nova-agents/pool/ws-001\n"
              "  novactl spawn agent-001 --workdir /var/nova-agents/pool/ws-001 -- cargo build");
  AddSpawnOptions(*cmd, o->input);
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->callback([o] { RunSpawn(*o); });
}

}  // namespace nova
