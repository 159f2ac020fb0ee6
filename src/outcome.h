// How an agent ended, kept after systemd has garbage-collected its unit.
//
// Agent units are transient with CollectMode=inactive-or-failed, so they never
// pile up as failed units. Just before a unit goes, its privileged
// ExecStopPost hook records the outcome here: systemd's verdict
// ($SERVICE_RESULT, $EXIT_CODE, $EXIT_STATUS), the cgroup's OOM kills, and
// who asked for the kill if someone did (a marker novad leaves before it stops
// an agent). Files, not novad's memory: outcomes survive novad restarts and
// `novactl status` reads them without novad.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace nova {

// Who stopped an agent and why, left by novad before it stops one.
struct KillMarker {
  std::string by;      // user name, or "novad"
  std::string reason;  // "kill", "kill --force", "relief: host at 96.1%"
};

struct Outcome {
  std::string agent;
  std::string service_result;  // systemd's $SERVICE_RESULT: success, exit-code, signal, timeout,
                               // oom-kill...
  std::string exit_code;       // $EXIT_CODE: exited, killed, dumped
  std::string exit_status;     // $EXIT_STATUS: a number or a signal name
  uint64_t oom_kills = 0;      // memory.events oom_kill of the agent's cgroup
  std::optional<KillMarker> killed;
  int64_t finished_at_usec = 0;  // CLOCK_REALTIME
};

// One phrase for humans: "exited 0", "oom-killed (memory limit)",
// "hard timeout (SIGTERM)", "killed by alice (kill --force)".
std::string DescribeOutcome(const Outcome& outcome);

// Why a start failed, from the status systemd reports for it (200/CHDIR,
// 203/EXEC, 217/USER...), or empty if the status is not a start failure.
std::string StartFailureReason(const std::string& exit_status);

nlohmann::json OutcomeToJson(const Outcome& outcome);
Outcome OutcomeFromJson(const nlohmann::json& json);

// The on-disk store: STATE/outcomes/NAME.json and RUNTIME/kill/NAME.json.
class OutcomeStore {
 public:
  OutcomeStore(std::string state_dir, std::string runtime_dir);

  void Write(const Outcome& outcome) const;  // atomic replace
  std::optional<Outcome> Read(const std::string& agent) const;
  std::vector<Outcome> ReadAll() const;

  void WriteKillMarker(const std::string& agent, const KillMarker& marker) const;
  std::optional<KillMarker> TakeKillMarker(const std::string& agent) const;
  void ClearKillMarker(const std::string& agent) const;

 private:
  std::string outcomes_dir_;
  std::string kill_dir_;
};

}  // namespace nova
