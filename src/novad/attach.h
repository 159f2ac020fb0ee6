// `novactl exec`: what novad checks before it asks systemd to move a caller's
// process into an agent's unit. The caller names a pid; a pid is only a
// number, so novad pins the process with a pidfd, reads who it is while
// pinned, and looks again after systemd has moved it: a process that died
// meanwhile (its pid free for another) is noticed, not trusted.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "priority_policy.h"
#include "systemd.h"

namespace nova {

// What /proc says about a process.
struct ProcessFacts {
  uint32_t ppid = 0;
  std::vector<uint32_t> uids;  // real, effective, saved set, filesystem
  std::string cgroup;          // cgroup v2 path, "" if unknown
};

// The PPid: and Uid: lines of /proc/PID/status; nullopt if either is missing
// or malformed. `cgroup` is left empty.
std::optional<ProcessFacts> ParseProcStatus(std::string_view status);

// The refusal, as an Error, for attaching process `pid` (described by
// `target`, nullopt when it does not exist) into agent `name` (`agent` as
// systemd reports it), on behalf of the bus peer `caller_uid`/`caller_pid`:
// the agent must be active and the caller its user or root; the process must
// be the caller's child, run with the caller's uid in all four ids, and not
// already be in an agent. Returns when all holds.
void CheckAttach(uint32_t caller_uid, uint32_t caller_pid, const std::string& name,
                 const std::optional<AgentUnitInfo>& agent, uint32_t pid,
                 const std::optional<ProcessFacts>& target);

// The process being attached, pinned (a pidfd) for as long as this lives.
class AttachTarget {
 public:
  virtual ~AttachTarget() = default;
  virtual uint32_t pid() const = 0;
  // Its facts now; nullopt when they cannot be read (it is gone).
  virtual std::optional<ProcessFacts> Facts() = 0;
  // Whether the pinned process still runs (or is an unreaped zombie, which
  // still holds its pid): facts read before a true answer were its own.
  virtual bool Alive() = 0;
  // The priority policy, as the sweep would apply it; failures are returned.
  virtual std::vector<std::string> ApplyPriority(const PriorityPolicy& policy) = 0;
};

// Pins process `pid`; nullopt when there is no such process.
std::unique_ptr<AttachTarget> PinProcess(uint32_t pid);

}  // namespace nova
