#include "agent_stop.h"

#include <iostream>
#include <optional>
#include <thread>

#include "agent_name.h"
#include "build_config.h"
#include "config.h"
#include "errors.h"
#include "systemd.h"

namespace nova {

void WaitUntilAgentGone(const std::string& name, bool force) {
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

}  // namespace nova
