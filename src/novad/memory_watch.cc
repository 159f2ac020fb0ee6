#include "memory_watch.h"

#include <algorithm>
#include <cstdio>

#include "size.h"

namespace nova {
namespace {

std::string HostFigure(const HostMemory& m) {
  return "host memory " + FormatPercent(m.used_percent()) + " used (" + FormatSize(m.used()) +
         " of " + FormatSize(m.total) + ")";
}

}  // namespace

std::vector<RankedVictim> PlanRelief(const HostMemory& memory, double target_percent,
                                     const std::vector<RankedVictim>& ranked) {
  std::vector<RankedVictim> plan;
  HostMemory after = memory;
  for (const RankedVictim& victim : ranked) {
    if (after.used_percent() < target_percent) break;
    plan.push_back(victim);
    after.available = std::min(after.total, after.available + victim.memory.current);
  }
  return plan;
}

Usec PollInterval(const Config& config, double used_percent, double rise_per_second) {
  double span = config.relief_percent - config.relief_target_percent;
  double headroom = config.relief_percent - used_percent;
  double fraction = span > 0 ? std::clamp(headroom / span, 0.0, 1.0) : 0.0;
  auto min = config.watch_interval_min.count();
  auto max = config.watch_interval_max.count();
  auto interval = min + static_cast<int64_t>(static_cast<double>(max - min) * fraction);
  if (rise_per_second > 0 && headroom > 0) {
    auto before_crossing = static_cast<int64_t>(headroom / rise_per_second / 2 * 1e6);
    interval = std::clamp<int64_t>(before_crossing, min, interval);
  }
  return Usec(interval);
}

MemoryWatcher::MemoryWatcher(const Config& config, WatchHost& host, AdmissionGate& gate)
    : config_(config), host_(host), gate_(gate) {}

void MemoryWatcher::Emit(std::string action, const HostMemory& host, double threshold,
                         const std::string& trigger, bool dry_run, const RankedVictim* victim,
                         const std::string& detail) {
  const AgentMemory* agent = victim ? &victim->memory : nullptr;
  WatchEvent e;
  e.action = std::move(action);
  e.host = host;
  e.threshold_percent = threshold;
  e.trigger = trigger;
  e.dry_run = dry_run;
  if (agent) {
    e.agent = agent->agent;
    e.agent_memory = agent->current;
    e.reason = VictimReason(*victim, config_.relief_confirm_timeout);
    e.agent_growth = static_cast<int64_t>(victim->growth_per_second);
    e.agent_projected = victim->projected;
  }
  std::string who = agent ? "agent " + agent->agent + " (" + FormatSize(agent->current) + ")" : "";
  // For a kill, why this one: its growth, or that it is the largest.
  std::string chosen = agent ? "agent " + agent->agent + " (" + e.reason + ")" : "";
  const std::string figure = HostFigure(host);
  if (e.action == watch_action::kAdmissionClosed) {
    e.message = "admission closed: " + figure + ", at or above " + FormatThreshold(threshold);
  } else if (e.action == watch_action::kAdmissionReopened) {
    e.message = "admission reopened: " + figure + ", below " + FormatThreshold(threshold);
  } else if (e.action == watch_action::kReliefStarted) {
    e.message = "relief started by " + trigger + (dry_run ? " (dry run)" : "") + ": " + figure +
                ", target below " + FormatThreshold(threshold);
  } else if (e.action == watch_action::kKill) {
    e.message =
        "relief killed " + chosen + ": " + figure + ", target below " + FormatThreshold(threshold);
  } else if (e.action == watch_action::kWouldKill) {
    e.message = "relief would kill " + chosen + " (dry run): " + figure + ", target below " +
                FormatThreshold(threshold);
  } else if (e.action == watch_action::kKillFailed) {
    e.message = "relief could not kill agent " + e.agent + ": " + detail;
  } else if (e.action == watch_action::kReliefDone) {
    e.message = "relief done: " + figure + ", below " + FormatThreshold(threshold);
  } else if (e.action == watch_action::kReliefIncomplete) {
    e.message = "relief stopped with no agent left to kill: " + figure + ", target below " +
                FormatThreshold(threshold);
  } else if (e.action == watch_action::kConfirmTimeout) {
    e.message = who + " did not give its memory back within " +
                FormatDuration(config_.relief_confirm_timeout) +
                " (ReliefConfirmTimeout); relief moves on: " + figure;
  } else {
    e.message = e.action + (who.empty() ? "" : " " + who) + ": " + figure;
  }
  host_.Emit(e);
}

std::vector<AgentMemory> MemoryWatcher::ObserveAgents() {
  std::vector<AgentMemory> agents = host_.ReadAgents();
  growth_.Observe(agents, host_.Now());
  return agents;
}

bool MemoryWatcher::AwaitMemoryBack(const std::string& victim) {
  auto deadline = host_.Now() + config_.relief_confirm_timeout;
  for (;;) {
    auto anon = host_.AgentAnonMemory(victim);
    if (!anon || *anon <= kResidualAnonMemory) return true;
    if (host_.Now() >= deadline) return false;
    // The others go on growing meanwhile; the next choice needs fresh samples.
    if (!growth_.last_observed() ||
        host_.Now() - *growth_.last_observed() >= kGrowthSampleSpacing) {
      ObserveAgents();
    }
    host_.Sleep(std::chrono::milliseconds(5));
  }
}

ReliefResult MemoryWatcher::Relieve(double target_percent, bool dry_run,
                                    const std::string& trigger) {
  ReliefResult result;
  result.dry_run = dry_run;
  result.before = host_.ReadMemory();
  result.after = result.before;
  if (result.before.used_percent() < target_percent) {
    result.reached_target = true;
    return result;
  }
  Emit(watch_action::kReliefStarted, result.before, target_percent, trigger, dry_run);
  if (dry_run) {
    auto ranked =
        RankVictims(ObserveAgents(), growth_, host_.Now(), config_.relief_confirm_timeout);
    for (const RankedVictim& victim : PlanRelief(result.before, target_percent, ranked)) {
      Emit(watch_action::kWouldKill, result.before, target_percent, trigger, true, &victim);
      result.victims.push_back(victim.memory);
    }
    return result;
  }
  std::vector<std::string> tried;
  for (;;) {
    HostMemory now = host_.ReadMemory();
    result.after = now;
    if (now.used_percent() < target_percent) {
      result.reached_target = true;
      Emit(watch_action::kReliefDone, now, target_percent, trigger, false);
      return result;
    }
    std::vector<AgentMemory> candidates;
    for (AgentMemory& a : ObserveAgents()) {
      if (std::find(tried.begin(), tried.end(), a.agent) == tried.end()) {
        candidates.push_back(std::move(a));
      }
    }
    if (candidates.empty()) {
      Emit(watch_action::kReliefIncomplete, now, target_percent, trigger, false);
      return result;
    }
    RankedVictim victim =
        RankVictims(candidates, growth_, host_.Now(), config_.relief_confirm_timeout).front();
    const std::string& name = victim.memory.agent;
    tried.push_back(name);
    char figures[160];
    std::snprintf(figures, sizeof figures, "host memory %.1f%% used, target below %g%%",
                  now.used_percent(), target_percent);
    std::string reason = "relief (" + trigger + "): " + figures + "; agent used " +
                         FormatSize(victim.memory.current) + ", chosen as " +
                         VictimReason(victim, config_.relief_confirm_timeout);
    try {
      host_.KillAgent(name, KillMarker{"novad", reason});
    } catch (const std::exception& e) {
      Emit(watch_action::kKillFailed, now, target_percent, trigger, false, &victim, e.what());
      continue;
    }
    Emit(watch_action::kKill, now, target_percent, trigger, false, &victim);
    result.victims.push_back(victim.memory);
    if (!AwaitMemoryBack(name)) {
      Emit(watch_action::kConfirmTimeout, host_.ReadMemory(), target_percent, trigger, false,
           &victim);
    }
  }
}

Usec MemoryWatcher::Check() {
  Usec next = Look();
  // The OOM scan keeps its own cadence, whatever WatchIntervalMax says.
  auto until_scan = std::chrono::duration_cast<Usec>(next_oom_scan_ - host_.Now());
  return std::clamp(until_scan, Usec(0), next);
}

Usec MemoryWatcher::Look() {
  HostMemory memory = host_.ReadMemory();
  double used = memory.used_percent();
  auto now = host_.Now();
  double rise_per_second = 0;
  if (last_sample_ && now > last_sample_->when) {
    double seconds = std::chrono::duration<double>(now - last_sample_->when).count();
    rise_per_second = (used - last_sample_->used_percent) / seconds;
  }
  last_sample_ = Sample{now, used};
  // Near relief, every agent's memory is sampled so that relief knows who
  // is growing; at most every kGrowthSampleSpacing, since a read costs a
  // file per agent.
  if (used >= config_.relief_target_percent &&
      (!growth_.last_observed() || now - *growth_.last_observed() >= kGrowthSampleSpacing)) {
    ObserveAgents();
  }
  if (now >= next_oom_scan_) {
    next_oom_scan_ = now + kOomScanInterval;
    for (WatchEvent& e : oom_.Scan(host_.Oom())) {
      e.host = memory;
      host_.Emit(e);
    }
  }
  switch (gate_.Observe(used)) {
    case AdmissionGate::Change::kClosed:
      Emit(watch_action::kAdmissionClosed, memory, config_.admission_percent, "watcher", false);
      break;
    case AdmissionGate::Change::kReopened:
      Emit(watch_action::kAdmissionReopened, memory, config_.admission_reopen_percent, "watcher",
           false);
      break;
    case AdmissionGate::Change::kNone:
      break;
  }
  if (used < config_.relief_percent) {
    last_dry_run_report_.reset();
    return PollInterval(config_, used, rise_per_second);
  }
  if (config_.relief_dry_run) {
    if (!last_dry_run_report_ || now - *last_dry_run_report_ >= std::chrono::minutes(1)) {
      last_dry_run_report_ = now;
      Relieve(config_.relief_target_percent, true, "watcher");
    }
    return PollInterval(config_, used);
  }
  // With nothing left to kill, memory is not the agents'; retrying every
  // few milliseconds would only flood the journal.
  if (next_relief_ && now < *next_relief_) return PollInterval(config_, used);
  ReliefResult relief = Relieve(config_.relief_target_percent, false, "watcher");
  last_sample_.reset();  // memory fell by design; it says nothing about the next rise
  if (relief.reached_target) {
    next_relief_.reset();
  } else {
    next_relief_ = now + kReliefRetryDelay;
  }
  if (gate_.Observe(relief.after.used_percent()) == AdmissionGate::Change::kReopened) {
    Emit(watch_action::kAdmissionReopened, relief.after, config_.admission_reopen_percent,
         "watcher", false);
  }
  return PollInterval(config_, relief.after.used_percent());
}

}  // namespace nova
