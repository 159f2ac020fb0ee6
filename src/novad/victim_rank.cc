#include "victim_rank.h"

#include <algorithm>

#include "duration.h"
#include "size.h"

namespace nova {

void GrowthTracker::Observe(const std::vector<AgentMemory>& agents, TimePoint now) {
  std::unordered_map<std::string, History> next;
  next.reserve(agents.size());
  for (const AgentMemory& a : agents) {
    History h;
    if (auto it = histories_.find(a.agent); it != histories_.end()) h = std::move(it->second);
    Sample sample{now, a.current};
    h.latest = sample;
    if (h.anchors.empty() || now - h.anchors.back().when >= kGrowthSampleSpacing) {
      h.anchors.push_back(sample);
    }
    auto stale = std::find_if(h.anchors.begin(), h.anchors.end(),
                              [&](const Sample& s) { return now - s.when <= kGrowthWindow; });
    h.anchors.erase(h.anchors.begin(), stale);
    next.emplace(a.agent, std::move(h));
  }
  histories_ = std::move(next);
  last_observed_ = now;
}

double GrowthTracker::Rate(const std::string& agent, TimePoint now) const {
  auto it = histories_.find(agent);
  if (it == histories_.end()) return 0;
  const History& h = it->second;
  if (h.anchors.empty() || now - h.latest.when > kGrowthWindow) return 0;
  const Sample& oldest = h.anchors.front();
  auto span = h.latest.when - oldest.when;
  if (span < kGrowthSampleSpacing) return 0;
  double seconds = std::chrono::duration<double>(span).count();
  return (static_cast<double>(h.latest.current) - static_cast<double>(oldest.current)) / seconds;
}

std::vector<RankedVictim> RankVictims(const std::vector<AgentMemory>& agents,
                                      const GrowthTracker& growth,
                                      std::chrono::steady_clock::time_point now,
                                      std::chrono::microseconds horizon) {
  std::vector<RankedVictim> ranked;
  ranked.reserve(agents.size());
  double horizon_seconds = std::chrono::duration<double>(horizon).count();
  for (const AgentMemory& a : agents) {
    RankedVictim v;
    v.memory = a;
    v.growth_per_second = growth.Rate(a.agent, now);
    v.growing = v.growth_per_second >= static_cast<double>(kSteadyBytesPerSecond);
    v.projected = a.current;
    if (v.growing) {
      double projected = static_cast<double>(a.current) + v.growth_per_second * horizon_seconds;
      // It cannot hold more than its own limit: the kernel OOM-kills it there.
      double limit = a.max == 0 || a.max == kInfinity ? projected : static_cast<double>(a.max);
      projected = std::min(projected, limit);
      if (projected > static_cast<double>(a.current)) {
        v.projected = projected >= 1.8e19 ? kInfinity : static_cast<uint64_t>(projected);
      }
    }
    ranked.push_back(std::move(v));
  }
  std::sort(ranked.begin(), ranked.end(), [](const RankedVictim& a, const RankedVictim& b) {
    if (a.projected != b.projected) return a.projected > b.projected;
    if (a.memory.current != b.memory.current) return a.memory.current > b.memory.current;
    return a.memory.agent < b.memory.agent;
  });
  return ranked;
}

std::string VictimReason(const RankedVictim& v, std::chrono::microseconds horizon) {
  if (v.growing) {
    return "growing " + FormatSize(static_cast<uint64_t>(v.growth_per_second)) + "/s at " +
           FormatSize(v.memory.current) + ", " + FormatSize(v.projected) + " projected in " +
           FormatDuration(horizon);
  }
  bool shrinking = v.growth_per_second <= -static_cast<double>(kSteadyBytesPerSecond);
  return std::string("largest, ") + (shrinking ? "shrinking" : "steady") + " at " +
         FormatSize(v.memory.current);
}

}  // namespace nova
