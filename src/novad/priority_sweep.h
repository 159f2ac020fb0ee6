// The sweep that keeps the priority policy right after spawn: processes in
// agent units (found through the agents slice's cgroups, never by scanning
// every process on the host) that sit at the default get the policy; a nice
// value a user chose and an oom_score_adj the policy would not have set are
// left alone. novad is not in an agent unit, so it is never deprioritised.
#pragma once

#include <dirent.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "agent_cgroups.h"
#include "agent_name.h"
#include "priority_policy.h"

namespace nova {

struct ProcessPriority {
  int nice = 0;
  int oom_score_adj = 0;
};

struct SweepDecision {
  bool set_nice = false;
  bool set_oom_score_adj = false;
};

// Coder's rules: nice only where it is 0 (unset); oom_score_adj where it
// differs from the policy and is not custom (see IsCustomOomScore).
SweepDecision DecideSweep(const ProcessPriority& process, const PriorityPolicy& policy);

struct SweepStats {
  int processes = 0;  // in agent units
  int examined = 0;   // read and decided on (new since the last sweep, or all in a full one)
  int niced = 0;
  int oom_adjusted = 0;
  int failures = 0;
  bool skipped = false;  // no process created since the last passes: nothing read
  // The pass looked up the new pids one by one (/proc/PID/cgroup) instead of
  // reading every agent's cgroup.procs; `processes` are then the new ones
  // found in agent units. `looked_up`: the new pids that were still there.
  bool by_new_pids = false;
  int looked_up = 0;
};

// Whether the next pass must re-examine every process: the first pass; once
// every kQuietFullSweepInterval; and once every kFullSweepInterval while
// pids are handed out if a pass since the last full one read cgroup.procs
// (such a pass skips a pid it has seen, so a process that reused one is
// examined only by a full pass). Passes that looked up every new pid leave
// nothing of that kind behind.
bool FullSweepDue(std::optional<std::chrono::steady_clock::duration> since_full,
                  bool pids_handed_out_since_full, bool skipped_seen_pids_since_full);

// Gives one process the policy as the sweep does (DecideSweep). Returns the
// failures, each "failed to adjust niceness: REASON" or "failed to adjust oom
// score: REASON"; nothing when the process is gone. Counts into `stats`.
std::vector<std::string> ApplyPriority(int pid, const PriorityPolicy& policy,
                                       SweepStats* stats = nullptr);

class PrioritySweeper {
 public:
  // NEWEST_PID_FILE: where the kernel says which pid it handed out last
  // (/proc/loadavg's last field); empty or unreadable, every pass is made.
  // PROC: where /proc/PID/cgroup is read; CGROUP_MOUNT: where the paths it
  // names start (the cgroup2 mount, of which AGENTS_CGROUP is a folder).
  explicit PrioritySweeper(PriorityPolicy policy, std::string agents_cgroup = kAgentsCgroup,
                           const std::string& newest_pid_file = "/proc/loadavg",
                           const std::string& proc = "/proc",
                           const std::string& cgroup_mount = "/sys/fs/cgroup");
  ~PrioritySweeper();
  PrioritySweeper(const PrioritySweeper&) = delete;
  PrioritySweeper& operator=(const PrioritySweeper&) = delete;

  // One pass over the agents' cgroups. A process is examined the first time
  // it is seen: the policy is applied at spawn and inherited, and what a
  // process later does to its own values is its user's choice, so there is
  // nothing to re-read each time. A full pass (when FullSweepDue says, or
  // when asked) re-examines everything, which also covers reused pids.
  // A new process, or a pid reused, needs a pid handed out: while the
  // kernel's newest pid stays where it was, a pass reads nothing but that
  // (skipped), once one more pass has followed the last new pid (a child
  // forked just before a pass may join its agent's cgroup just after it).
  // Full passes wait for a new pid too, up to kQuietFullSweepInterval: only
  // a privileged process can put an agent's process back to the defaults.
  // Failures are logged with pid, command and reason, each distinct cause at
  // most once a minute. With hundreds of agents a pass costs about one
  // system call per agent: each agent's cgroup.procs stays open between
  // passes, and whether an agent made cgroups of its own is asked at full
  // passes only (and of a new agent); those are then walked at every pass.
  SweepStats Sweep(bool full = false);

  // novad sweeps every kInterval; a process reset to the defaults gets the
  // policy back within kFullSweepInterval on a host that forks more than
  // passes by new pids take, within kQuietFullSweepInterval otherwise.
  static constexpr std::chrono::seconds kInterval{2};
  static constexpr std::chrono::seconds kFullSweepInterval{10};
  static constexpr std::chrono::seconds kQuietFullSweepInterval{60};

 private:
  void Fail(int pid, const std::string& what, const std::string& reason);
  std::optional<long> NewestPid();
  // Examines the pids listed in PROCS (a cgroup.procs).
  void Examine(const std::string& procs, bool full, SweepStats& stats,
               std::unordered_set<int>& seen);
  // The processes of the cgroup open at DIR_FD, then its child cgroups.
  void SweepCgroup(int dir_fd, int depth, bool full, SweepStats& stats,
                   std::unordered_set<int>& seen);
  void SweepChildren(int dir_fd, int depth, bool full, SweepStats& stats,
                     std::unordered_set<int>& seen);
  // The pids in (FROM, TO], each looked up in /proc: those in agent units
  // and not seen yet are examined.
  void SweepNewPids(long from, long to, SweepStats& stats);
  bool InAgentCgroup(const std::string& proc_cgroup) const;

  PriorityPolicy policy_;
  std::map<std::string, std::chrono::steady_clock::time_point> last_logged_;
  std::unordered_set<int> known_;  // processes seen in the last sweep
  std::optional<std::chrono::steady_clock::time_point> last_full_;
  int newest_pid_fd_ = -1;
  std::string newest_pid_text_;
  // The newest pid when the last pass, the one before it and the last full
  // pass began; whether the pass after the last new pid is still to come.
  std::optional<long> newest_at_pass_, newest_at_pass_before_, newest_at_full_;
  bool settling_ = false;
  bool skipped_seen_pids_since_full_ = false;
  int proc_fd_ = -1;
  // "0::/nova.slice/nova-agents.slice/" as /proc/PID/cgroup says it; empty
  // when AGENTS_CGROUP is not below CGROUP_MOUNT (then no pass by new pids).
  std::string agents_cgroup_line_;
  std::string pid_cgroup_text_;
  // What the last pass over cgroup.procs read: files, and processes in them.
  int cgroups_read_ = 0, processes_listed_ = 0;
  std::string procs_buffer_;  // reused: one cgroup.procs read per cgroup per pass
  AgentCgroups cgroups_;      // each agent's cgroup.procs, kept open
  // By directory name: its inode, and whether it had sub-cgroups when last
  // asked; the pass in progress fills the second map.
  std::unordered_map<std::string, std::pair<ino_t, bool>> subdirectories_, seen_subdirectories_;
};

}  // namespace nova
