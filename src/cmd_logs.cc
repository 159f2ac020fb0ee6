#include <unistd.h>

#include <cstring>
#include <vector>

#include "agent_name.h"
#include "commands.h"
#include "errors.h"

namespace nova {

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
      "systemd's own messages about the unit: journalctl -u nova-agent-NAME.service");
  cmd->add_option("name", o->name, "Agent name")->required();
  cmd->add_flag("--follow,-f", o->follow, "Keep printing new output");
  cmd->add_option("--lines,-n", o->lines, "Show only the last N lines");
  cmd->callback([o] {
    ValidateAgentName(o->name);
    std::vector<std::string> args = {"journalctl", "--no-pager", "--output=cat",
                                     "_SYSTEMD_UNIT=" + AgentUnit(o->name)};
    if (o->follow) args.push_back("--follow");
    if (o->lines >= 0) args.push_back("--lines=" + std::to_string(o->lines));
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp("journalctl", argv.data());
    throw Error(ErrorKind::kUnavailable,
                std::string("cannot run journalctl: ") + std::strerror(errno));
  });
}

}  // namespace nova
