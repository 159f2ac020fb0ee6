#include <iostream>

#include "agent_stop.h"
#include "commands.h"
#include "nova_client.h"

namespace nova {

void AddKillCommand(CLI::App& app) {
  auto name = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("kill", "Stop an agent and every process it started");
  cmd->footer(
      "\nGraceful (default): SIGTERM to every process of the agent, SIGKILL to what is\n"
      "left after the stop timeout (TimeoutStop in /etc/nova/nova.conf). --force:\n"
      "SIGKILL to every process at once.\n"
      "Returns once the agent is gone; its outcome stays visible in novactl status.");
  cmd->add_option("name", *name, "Agent name")->required();
  cmd->add_flag("--force,-f", *force, "SIGKILL every process at once");
  cmd->callback([name, force] {
    NovaClient client;
    client.Kill(*name, *force);
    WaitUntilAgentGone(*name, *force);
    std::cout << "Stopped agent " << *name << (*force ? " (SIGKILL)." : ".") << std::endl;
  });
}

}  // namespace nova
