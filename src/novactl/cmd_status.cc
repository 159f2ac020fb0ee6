#include <time.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "admission.h"
#include "agent_name.h"
#include "agent_status.h"
#include "build_config.h"
#include "commands.h"
#include "config.h"
#include "duration.h"
#include "json_output.h"
#include "meminfo.h"
#include "oom_kills.h"
#include "outcome.h"
#include "security_exposure.h"
#include "systemd.h"

namespace nova {

void AddStatusCommand(CLI::App& app) {
  struct Options {
    std::string name;
    bool json = false;
    bool all = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("status", "Show host memory and the agents");
  cmd->footer(
      "\nReads systemd directly, so it works while novad is down. Memory used is\n"
      "MemTotal - MemAvailable from /proc/meminfo. With NAME it also shows the\n"
      "agent's sandbox profile and its exposure as `systemd-analyze security` scores\n"
      "it (0 = locked down, 10 = fully exposed). When admission is closed (host memory\n"
      "reached AdmissionPercent), the header says since when and whether hysteresis\n"
      "holds it closed until memory is below AdmissionReopenPercent; --json has it as\n"
      "admission.open, closed_since_usec, held_by_hysteresis.\n\n"
      "OOM kills inside a running agent (a process killed at its MemoryMax while the\n"
      "agent goes on, OOMPolicy=continue) are counted by novad: status NAME shows\n"
      "\"OOM kills: 2 (last: cc1plus, pid 1234, 14:02:11)\", the list a line per agent\n"
      "with kills, --json oom_kills and last_oom_kill {process, pid, time_usec}.");
  cmd->add_option("name", o->name, "Show only this agent, in detail");
  cmd->add_flag("--all,-a", o->all, "Also list finished agents and their outcomes");
  cmd->add_flag("--json", o->json, "Print JSON instead of text");
  cmd->callback([o] {
    if (!o->name.empty()) ValidateAgentName(o->name);
    Config config = LoadConfig(kConfigPath);
    auto systemd = ConnectSystemd();
    OutcomeStore outcomes(kStateDir, kRuntimeDir);
    int64_t now = RealtimeUsec();
    // An agent killed a moment ago: its outcome is being written.
    WaitForPendingOutcomes(*systemd, o->name, std::chrono::seconds(5));
    std::vector<AgentUnitInfo> units = systemd->ListAgents();
    std::vector<Outcome> finished = outcomes.ReadAll();
    StatusReport report = BuildStatusReport(ReadHostMemory(), config, units, finished, now);
    auto novad = systemd->GetUnitState("novad.service");
    report.novad_running = novad && novad->active_state == "active";
    report.admission = ReadAdmissionState(std::string(kRuntimeDir) + "/" + kAdmissionStateFile);
    if (auto kills = ReadOomKills(std::string(kRuntimeDir) + "/" + kOomKillsFile)) {
      AttachOomKills(report, *kills,
                     [](const std::string& name) { return CgroupId(AgentCgroupPath(name)); });
    }
    for (auto& row : report.agents) {
      if (!o->name.empty() && row.unit.name == o->name) {
        row.exposure = MeasureSecurityExposure(row.unit.unit);
      }
    }
    if (o->json) {
      nlohmann::json j = StatusToJson(report);
      if (!o->name.empty()) {
        FormatAgent(report, o->name);  // throws NotFound for an unknown agent
        for (const char* list : {"finished", "agents"}) {
          for (const auto& entry : j[list]) {
            if (entry.value("name", entry.value("agent", "")) == o->name) j["agent"] = entry;
          }
        }
      }
      std::cout << JsonText(j, 2) << std::endl;
    } else if (!o->name.empty()) {
      std::cout << FormatAgent(report, o->name);
    } else {
      std::cout << FormatStatus(report, o->all);
    }
  });
}

}  // namespace nova
