#include <unistd.h>

#include <vector>

#include "agent_logs.h"
#include "agent_name.h"
#include "build_config.h"
#include "commands.h"
#include "errors.h"
#include "outcome.h"
#include "systemd.h"
#include "text.h"
#include "users.h"

namespace nova {
namespace {

// An agent has logs to show if it ran: it has a recorded outcome, output in
// the journal, or a unit systemd still knows.
bool KnownAgent(const std::string& name) {
  if (OutcomeStore(kStateDir, kRuntimeDir).Read(name)) return true;
  if (JournalHasEntries("_SYSTEMD_UNIT=" + AgentUnit(name))) return true;
  return ConnectSystemd()->GetUnitState(AgentUnit(name)).has_value();
}

// Members read their own agents' logs only (journald keeps other users'
// output from them anyway; this says so in one line instead of printing
// nothing). Root reads everyone's.
void RefuseOtherUsersAgent(const std::string& name) {
  uid_t uid = getuid();
  if (uid == 0) return;
  std::string owner;
  if (auto agent = ConnectSystemd()->GetAgent(name); agent && agent->live()) {
    owner = agent->user;
  } else if (auto outcome = OutcomeStore(kStateDir, kRuntimeDir).Read(name)) {
    owner = outcome->user;
  }
  if (!owner.empty() && owner != UserNameForUid(uid)) {
    throw Error(ErrorKind::kPermissionDenied, "agent \"" + name + "\" is " + Printable(owner) +
                                                  "'s; only its user or root may read its logs");
  }
}

}  // namespace

void AddLogsCommand(CLI::App& app) {
  struct Options {
    std::string name;
    bool follow = false;
    int lines = -1;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("logs", "Show an agent's output, from the journal");
  cmd->footer(
      "\nWhat the agent's processes wrote to stdout and stderr, read with journalctl\n"
      "(_SYSTEMD_UNIT=nova-agent-NAME.service); it stays after the agent ends.\n"
      "Control characters and bytes that are not UTF-8 are shown escaped (\\e, \\x0d).\n"
      "systemd's own messages about the unit: journalctl -u nova-agent-NAME.service");
  cmd->add_option("name", o->name, "Agent name")->required();
  cmd->add_flag("--follow,-f", o->follow, "Keep printing new output");
  cmd->add_option("--lines,-n", o->lines, "Show only the last N lines");
  cmd->callback([o] {
    ValidateAgentName(o->name);
    if (!KnownAgent(o->name)) {
      throw Error(ErrorKind::kNotFound, "no agent named \"" + o->name +
                                            "\": none running, no outcome and no output in the "
                                            "journal; see novactl status --all");
    }
    RefuseOtherUsersAgent(o->name);
    std::vector<std::string> args = {"journalctl", "--no-pager", "--output=cat",
                                     "_SYSTEMD_UNIT=" + AgentUnit(o->name)};
    if (o->follow) args.push_back("--follow");
    if (o->lines >= 0) args.push_back("--lines=" + std::to_string(o->lines));
    int status = RunPrintable(args, STDOUT_FILENO);
    if (status != 0) throw ExitWith{status};
  });
}

}  // namespace nova
