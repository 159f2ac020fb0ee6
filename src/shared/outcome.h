// How an agent ended, kept after systemd has garbage-collected its unit.
//
// Agent units are transient with CollectMode=inactive-or-failed, so they never
// pile up as failed units. When a unit ends, systemd starts
// nova-outcome-{success,failure}@NAME.service (a root service of its own,
// outside the agent),
// which records the outcome here: systemd's verdict ($MONITOR_SERVICE_RESULT,
// $MONITOR_EXIT_CODE, $MONITOR_EXIT_STATUS), PID 1's count of OOM kills in the
// run, who asked for the kill if someone did (a marker novad leaves before it
// stops an agent) and whose agent it was (a record novad leaves at spawn).
// Files, not novad's memory: outcomes survive novad restarts and
// `novactl status` reads them without novad. Only root writes here.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
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
  uint64_t oom_kills = 0;      // processes of the run killed by the kernel's OOM killer
  std::string user;            // whose agent it was (empty in records from before 0.2)
  std::optional<KillMarker> killed;
  int64_t finished_at_usec = 0;  // CLOCK_REALTIME
};

// Whether the kernel's OOM killer ended the run (not merely one of its
// processes while the main one went on to exit).
bool OomKilled(const Outcome& outcome);

// One phrase for humans: "exited 0", "oom-killed (memory limit)",
// "hard timeout (SIGTERM)", "killed by alice (kill --force)".
std::string DescribeOutcome(const Outcome& outcome);

// Why a start failed, from the status systemd reports for it (200/CHDIR,
// 203/EXEC, 217/USER...), or empty if the status is not a start failure.
std::string StartFailureReason(const std::string& exit_status);

nlohmann::json OutcomeToJson(const Outcome& outcome);
Outcome OutcomeFromJson(const nlohmann::json& json);

// The on-disk store: STATE/outcomes/NAME.json, RUNTIME/kill/NAME.json (kill
// markers), RUNTIME/agents/NAME.json (who owns a live agent) and
// RUNTIME/secrets/NAME/ (the agent's secrets until systemd has copied them).
class OutcomeStore {
 public:
  OutcomeStore(std::string state_dir, const std::string& runtime_dir);

  void Write(const Outcome& outcome) const;  // atomic replace
  std::optional<Outcome> Read(const std::string& agent) const;
  std::vector<Outcome> ReadAll() const;

  void WriteKillMarker(const std::string& agent, const KillMarker& marker) const;
  std::optional<KillMarker> TakeKillMarker(const std::string& agent) const;
  void ClearKillMarker(const std::string& agent) const;
  // Leaves `marker`, then runs `kill`; if the kill fails the marker goes
  // again, so a later end of the agent is not blamed on it.
  void KillMarked(const std::string& agent, const KillMarker& marker,
                  const std::function<void()>& kill) const;

  void WriteOwner(const std::string& agent, const std::string& user) const;
  std::optional<std::string> TakeOwner(const std::string& agent) const;

  // Writes each secret to a root-only file (directory 0700, file 0400) and
  // returns name -> path, for LoadCredential=.
  std::map<std::string, std::string> WriteSecrets(
      const std::string& agent, const std::map<std::string, std::string>& secrets) const;
  void RemoveSecrets(const std::string& agent) const;

 private:
  std::string outcomes_dir_;
  std::string kill_dir_;
  std::string owners_dir_;
  std::string secrets_dir_;
};

}  // namespace nova
