// What `novactl status` shows, built from systemd's view of the agent units,
// the recorded outcomes and the host's memory. It is assembled without novad,
// so status keeps working while novad is down or being upgraded.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "admission.h"
#include "config.h"
#include "meminfo.h"
#include "oom_kills.h"
#include "outcome.h"
#include "systemd.h"

namespace nova {

struct AgentRow {
  AgentUnitInfo unit;
  std::optional<Outcome> last_outcome;  // of an earlier run under this name
  // systemd-analyze security's exposure, 0.0-10.0, when measured (only for
  // `status NAME`: it takes a moment per agent).
  std::optional<double> exposure;
  // OOM kills inside this run of the agent, as novad recorded them.
  std::optional<AgentOomKills> oom_kills;
};

struct StatusReport {
  HostMemory memory;
  Config config;
  uint64_t max_agents = 0;         // MaxAgents; 0 = auto, admission weighs memory
  uint64_t memory_committed = 0;   // the live agents' MemoryMax, summed
  uint64_t memory_for_agents = 0;  // set aside for them (MaxAgents=auto weighs against it)
  int64_t now_usec = 0;            // CLOCK_REALTIME
  std::vector<AgentRow> agents;    // live agents
  std::vector<Outcome> finished;   // agents no longer running, by name
  // The admission gate as novad published it (nullopt: not published), and
  // whether novad runs at all; status fills them in after BuildStatusReport.
  std::optional<AdmissionState> admission;
  bool novad_running = true;
};

// One line on admission when it is not simply open: closed (and whether
// hysteresis is what holds it closed), or unknown with novad down; "" else.
std::string AdmissionLine(const StatusReport& report);

// Gives each live agent the OOM kills novad recorded for its current cgroup
// (`cgroup_id_of` maps a name to its cgroup's id, nullopt when gone), so a
// record of an earlier run under the same name is never shown.
void AttachOomKills(StatusReport& report, const OomKillsByAgent& kills,
                    const std::function<std::optional<uint64_t>(const std::string&)>& cgroup_id_of);

StatusReport BuildStatusReport(const HostMemory& memory, const Config& config,
                               const std::vector<AgentUnitInfo>& units,
                               const std::vector<Outcome>& outcomes, int64_t now_usec);

nlohmann::json StatusToJson(const StatusReport& report);

// The header and the table of live agents; finished agents too when `all`.
std::string FormatStatus(const StatusReport& report, bool all);

// One agent, every field on its own line (`novactl status NAME`).
std::string FormatAgent(const StatusReport& report, const std::string& name);

// Waits, at most `limit`, for the outcome recorders of `name` (of every
// agent when empty) that have a job or run now: an agent stopped a moment
// ago (novactl kill returns then) has its outcome on disk once they are
// done. Recorders that start later are not waited for; past the limit,
// status shows what is recorded by then.
void WaitForPendingOutcomes(Systemd& systemd, const std::string& name,
                            std::chrono::milliseconds limit);

}  // namespace nova
