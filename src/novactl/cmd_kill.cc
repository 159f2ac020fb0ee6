// novactl kill: one agent, several (NAME...), or all of the caller's
// (--all; root: everyone's, or --user U's). One call to novad queues every
// stop (KillMany), then they are awaited together, so stopping many costs
// about one stop.
#include <unistd.h>

#include <iostream>
#include <set>

#include "agent_name.h"
#include "agent_stop.h"
#include "commands.h"
#include "errors.h"
#include "text.h"
#include "users.h"

namespace nova {
namespace {

struct KillOptions {
  std::vector<std::string> names;
  bool force = false;
  bool all = false;
  std::string user;
};

std::vector<std::string> Targets(const KillOptions& o) {
  if (o.all && !o.names.empty()) {
    throw Error(ErrorKind::kInvalidArgument,
                "--all kills every agent of yours: give it no names (got \"" +
                    Printable(o.names.front()) + "\")");
  }
  if (!o.user.empty() && !o.all) {
    throw Error(
        ErrorKind::kInvalidArgument,
        "--user \"" + Printable(o.user) + "\" goes with --all (novactl kill --all --user U)");
  }
  if (!o.all) {
    if (o.names.empty()) {
      throw Error(ErrorKind::kInvalidArgument, "name an agent to kill, or give --all");
    }
    std::vector<std::string> names;
    std::set<std::string> seen;
    for (const auto& n : o.names) {
      ValidateAgentName(n);  // every name is checked before any agent is touched
      if (seen.insert(n).second) names.push_back(n);
    }
    return names;
  }
  std::string me = UserNameForUid(getuid());
  std::optional<std::string> whose = me;
  if (getuid() == 0) {
    whose = o.user.empty() ? std::nullopt : std::optional<std::string>(o.user);
  } else if (!o.user.empty() && o.user != me) {
    throw Error(ErrorKind::kPermissionDenied, "--user " + Printable(o.user) +
                                                  ": only root may kill another user's agents; "
                                                  "you are " +
                                                  me);
  }
  // Only what picks them: the states, and User= when it matters.
  auto systemd = ConnectSystemd();
  std::vector<std::string> live;
  for (const auto& [name, state] : systemd->AgentStates()) {
    if (state.live()) live.push_back(name);
  }
  if (!whose) return live;  // sorted: a map's keys
  std::vector<AgentUnitInfo> agents;
  for (const auto& [name, owner] : systemd->AgentOwners(live)) {
    AgentUnitInfo info;
    info.name = name;
    info.active_state = owner.state.active_state;
    info.user = owner.user;
    agents.push_back(std::move(info));
  }
  return AgentsToKill(agents, whose);
}

void RunKill(const KillOptions& o) {
  std::vector<std::string> names = Targets(o);
  if (names.empty()) {
    std::cout << "No running agents to kill." << std::endl;
    return;
  }
  // novad checks each name on its own: one that is not the caller's (or not
  // running) is one line on stderr, and the others are still stopped.
  AgentKiller killer;
  std::optional<ErrorKind> first_failure;
  for (const auto& refusal : killer.Kill(names, o.force)) {
    const std::string& message = refusal.message;
    std::cerr << "novactl: " << (FindControl(message) ? Printable(message) : message) << std::endl;
    if (!first_failure) first_failure = refusal.kind;
  }
  killer.WaitUntilStopped(o.force);
  for (const auto& name : killer.queued()) {
    std::cout << "Stopped agent " << name << (o.force ? " (SIGKILL)." : ".") << std::endl;
  }
  if (first_failure) throw ExitWith{ExitCodeFor(*first_failure)};
}

}  // namespace

void AddKillCommand(CLI::App& app) {
  auto o = std::make_shared<KillOptions>();
  CLI::App* cmd = app.add_subcommand("kill", "Stop agents and every process they started");
  cmd->footer(
      "\nGraceful (default): SIGTERM to every process of the agent, SIGKILL to what is\n"
      "left after the stop timeout (TimeoutStop in /etc/nova/nova.conf). --force:\n"
      "SIGKILL to every process at once.\n"
      "Several names, or --all (every agent of yours; root: every agent, or those of\n"
      "--user U): one call to novad queues every stop, then all are awaited. A name\n"
      "that is not running or not yours is one line on stderr; the others are still\n"
      "stopped, and the exit code is that of the first refusal (5 not running, 6 not\n"
      "yours). Returns once the agents are stopped, as systemctl stop does; their\n"
      "outcomes are recorded a moment later, and novactl status waits for them.\n"
      "Many agents: progress every 10 s; it gives up only when none has stopped for\n"
      "the stop timeout plus 30 s.");
  cmd->add_option("name", o->names, "Agent name(s)");
  cmd->add_flag("--force,-f", o->force, "SIGKILL every process at once");
  cmd->add_flag("--all", o->all, "Every agent of yours (root: every agent)");
  cmd->add_option("--user,-u", o->user, "With --all, as root: only this user's agents");
  cmd->callback([o] { RunKill(*o); });
}

}  // namespace nova
