#include "agent_stop.h"

#include <algorithm>
#include <iostream>
#include <thread>

#include "agent_name.h"
#include "build_config.h"
#include "config.h"
#include "errors.h"

namespace nova {

StopTracker::StopTracker(std::vector<std::string> names, Clock::duration settle)
    : remaining_(std::move(names)), settle_(settle) {}

const std::vector<std::string>& StopTracker::Update(const std::map<std::string, UnitState>& states,
                                                    Clock::time_point now) {
  std::erase_if(remaining_, [&](const std::string& name) {
    auto it = states.find(name);
    if (it == states.end()) return true;  // unloaded: gone
    if (it->second.live()) {
      stopped_at_.erase(name);
      return false;
    }
    auto [at, inserted] = stopped_at_.try_emplace(name, now);
    return now - at->second > settle_;
  });
  return remaining_;
}

void WaitUntilAgentsGone(const std::vector<std::string>& names, bool force) {
  if (names.empty()) return;
  Config config = LoadConfig(kConfigPath);
  Usec deadline = config.timeout_stop + std::chrono::seconds(30);
  auto systemd = ConnectSystemd();
  StopTracker tracker(names, std::chrono::seconds(2));
  auto start = StopTracker::Clock::now();
  bool told = false;
  for (;;) {
    auto now = StopTracker::Clock::now();
    const auto& left = tracker.Update(systemd->AgentStates(), now);
    if (left.empty()) return;
    auto waited = now - start;
    if (waited > deadline) {
      std::string unit = AgentUnit(left.front());
      auto state = systemd->GetUnitState(unit);
      throw Error(ErrorKind::kFailed,
                  "agent \"" + left.front() + "\" is still " +
                      (state ? state->active_state : std::string("loaded")) + " after " +
                      FormatDuration(deadline) +
                      (left.size() > 1 ? " (and " + std::to_string(left.size() - 1) + " more)"
                                       : std::string()) +
                      "; see systemctl status " + unit);
    }
    if (!told && !force && waited > std::chrono::seconds(1)) {
      std::cerr << "Waiting for "
                << (left.size() == 1 ? "agent " + left.front()
                                     : std::to_string(left.size()) + " agents")
                << " to stop (SIGKILL after " << FormatDuration(config.timeout_stop) << ")..."
                << std::endl;
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<std::string> AgentsToKill(const std::vector<AgentUnitInfo>& agents,
                                      const std::optional<std::string>& user) {
  std::vector<std::string> names;
  for (const auto& a : agents) {
    if (a.live() && (!user || a.user == *user)) names.push_back(a.name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace nova
