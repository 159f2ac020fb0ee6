#include <algorithm>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "admission.h"
#include "build_config.h"
#include "commands.h"
#include "config.h"
#include "doctor.h"
#include "errors.h"
#include "json_output.h"
#include "systemd.h"

namespace nova {
namespace {

bool PriorityManagementConfigured() {
  std::ifstream in("/etc/default/novad");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("CODER_PROC_PRIO_MGMT=")) return true;
  }
  return false;
}

}  // namespace

void AddDoctorCommand(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("doctor", "Check that this host is ready to run agents");
  cmd->footer(
      "\nChecks systemd's version, cgroup v2 and its memory and pids controllers, novad,\n"
      "the configuration, the policy in effect, whether MemoryMax fits the host, free\n"
      "capacity and the workspace pool where there is one, and says what to fix.\n"
      "Exit status 0 when ready, 1 when something must be fixed.");
  cmd->add_flag("--json", *json, "Print the checks as JSON");
  cmd->callback([json] {
    DoctorInputs in;
    try {
      in.config = LoadConfig(kConfigPath);
    } catch (const Error& e) {
      in.config_error = e.what();
    }
    in.memory = ReadHostMemory();
    in.priority_management = PriorityManagementConfigured();
    try {
      auto systemd = ConnectSystemd();
      in.systemd_version = systemd->Version();
      if (auto state = systemd->GetUnitState("novad.service")) in.novad_state = state->active_state;
      if (in.config.max_agents == 0) {
        std::map<std::string, UnitState> no_units;
        in.agents = MeasureLoad(systemd->ListAgentsWith({.memory_max = true}, {}, &no_units),
                                in.memory.total);  // needs their limits
      } else {
        for (const auto& [name, state] : systemd->AgentStates()) in.agents.running += state.live();
      }
    } catch (const Error&) {
      // Reported as "systemd not reachable" below.
    }
    std::vector<Check> checks = DoctorChecks(ReadHostFacts(SetupPaths{}), in);
    bool ready = std::none_of(checks.begin(), checks.end(),
                              [](const Check& c) { return c.status == Check::kFail; });
    if (*json) {
      std::cout << JsonText(nlohmann::json{{"ready", ready}, {"checks", ChecksToJson(checks)}}, 2)
                << std::endl;
    } else {
      std::cout << FormatChecks(checks)
                << (ready ? "\nThis host is ready to run agents.\n"
                          : "\nThis host is not ready: fix what is marked FAIL.\n");
    }
    if (!ready) throw ExitWith{1};
  });
}

}  // namespace nova
