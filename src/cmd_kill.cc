#include <iostream>
#include <thread>

#include "agent_name.h"
#include "build_config.h"
#include "commands.h"
#include "config.h"
#include "errors.h"
#include "nova_client.h"
#include "systemd.h"

namespace nova {
namespace {

// novad queues the stop; the agent is gone when systemd has unloaded its unit
// (at once, with CollectMode=inactive-or-failed, unless something holds it:
// then a stopped unit is good enough after a moment).
void WaitUntilGone(const std::string& name, bool force) {
  Config config = LoadConfig(kConfigPath);
  Usec deadline = config.timeout_stop + std::chrono::seconds(30);
  auto systemd = ConnectSystemd();
  std::string unit = AgentUnit(name);
  auto start = std::chrono::steady_clock::now();
  bool told = false;
  std::optional<std::chrono::steady_clock::time_point> stopped_at;
  for (;;) {
    auto state = systemd->GetUnitState(unit);
    if (!state) return;
    auto now = std::chrono::steady_clock::now();
    if (!state->live()) {
      if (!stopped_at) stopped_at = now;
      if (now - *stopped_at > std::chrono::seconds(2)) return;
    }
    auto waited = now - start;
    if (waited > deadline) {
      throw Error(ErrorKind::kFailed, "agent \"" + name + "\" is still " + state->active_state +
                                          " after " + FormatDuration(deadline) +
                                          "; see systemctl status " + unit);
    }
    if (!told && !force && waited > std::chrono::seconds(1)) {
      std::cerr << "Waiting for agent " << name << " to stop (SIGKILL after "
                << FormatDuration(config.timeout_stop) << ")..." << std::endl;
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

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
    WaitUntilGone(*name, *force);
    std::cout << "Stopped agent " << *name << (*force ? " (SIGKILL)." : ".") << std::endl;
  });
}

}  // namespace nova
