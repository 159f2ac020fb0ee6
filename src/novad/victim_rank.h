// Relief's kill order by the memory each agent is about to hold, not only
// what it holds this instant: a runaway still growing towards its limit goes
// before a steady agent that happens to be larger now, so relief does not
// kill an innocent neighbour and then the runaway anyway. Pure: samples and
// the clock come from the caller, so the order is tested exactly.
//
// Each agent's projection depends on its own samples alone, and is never
// below its current memory: an agent can only make itself look bigger (and
// die sooner), never another agent, and never smaller than it is.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent_memory.h"

namespace nova {

// Samples closer together than this are not kept as growth anchors, and a
// rate needs at least this span between its two samples.
inline constexpr std::chrono::milliseconds kGrowthSampleSpacing(100);
// Growth is measured over the last this much: "the last moments".
inline constexpr std::chrono::milliseconds kGrowthWindow(1000);
// Below this rate an agent counts as steady (allocator and page-cache noise).
inline constexpr uint64_t kSteadyBytesPerSecond = 4ULL << 20;

// Each agent's recent memory.current, kept for growth: O(agents) memory,
// a few samples each, and O(agents) work per observation. Agents missing
// from an observation are forgotten (they ended or vanished between reads).
class GrowthTracker {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  // `agents` is every agent read at `now` (a full read of the slice).
  void Observe(const std::vector<AgentMemory>& agents, TimePoint now);
  // Bytes per second over the recent samples (negative when shrinking), 0
  // when the agent has no two samples far enough apart within the window.
  double Rate(const std::string& agent, TimePoint now) const;
  size_t size() const { return histories_.size(); }
  // The last observation's time, if any.
  std::optional<TimePoint> last_observed() const { return last_observed_; }

 private:
  struct Sample {
    TimePoint when;
    uint64_t current;
  };
  struct History {
    std::vector<Sample> anchors;  // spaced >= kGrowthSampleSpacing, within kGrowthWindow
    Sample latest;
  };
  std::unordered_map<std::string, History> histories_;
  std::optional<TimePoint> last_observed_;
};

// One candidate victim and why it ranks where it does.
struct RankedVictim {
  AgentMemory memory;
  double growth_per_second = 0;  // bytes/s as measured, negative when shrinking
  uint64_t projected = 0;        // bytes expected after the horizon (>= current)
  bool growing = false;
};

// The victims in kill order: largest projected memory first (current +
// growth x horizon, at most the agent's memory.max), then largest current,
// then name. A steady or shrinking agent projects to its current memory, so
// steady agents keep largest-first among themselves.
std::vector<RankedVictim> RankVictims(const std::vector<AgentMemory>& agents,
                                      const GrowthTracker& growth,
                                      std::chrono::steady_clock::time_point now,
                                      std::chrono::microseconds horizon);

// Why relief chose it, for the kill event: "growing 180M/s, 1.2G projected
// in 5s" or "largest, steady at 307M".
std::string VictimReason(const RankedVictim& victim, std::chrono::microseconds horizon);

}  // namespace nova
