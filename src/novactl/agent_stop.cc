#include "agent_stop.h"

#include <systemd/sd-bus.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <set>

#include "agent_name.h"
#include "build_config.h"
#include "busy_retry.h"
#include "config.h"
#include "errors.h"
#include "nova_bus.h"
#include "nova_client.h"

namespace nova {

StopTracker::StopTracker(std::vector<std::string> names) : remaining_(std::move(names)) {}

const std::vector<std::string>& StopTracker::Update(
    const std::map<std::string, UnitState>& states) {
  std::erase_if(remaining_, [&](const std::string& name) {
    auto it = states.find(name);
    return it == states.end() || !it->second.live();  // unloaded, or stopped
  });
  return remaining_;
}

namespace {

constexpr const char* kSystemd = "org.freedesktop.systemd1";
constexpr const char* kSystemdPath = "/org/freedesktop/systemd1";
constexpr const char* kSystemdManager = "org.freedesktop.systemd1.Manager";
constexpr const char* kNovaManager = "org.nova.Nova1.Manager";
// A graceful kill waits for systemd's stop jobs, novad's own deadlines end
// it sooner.
constexpr uint64_t kCallTimeoutUsec = 180ULL * 1000000;
// For the calls given no timeout of their own (the signal matches).
constexpr uint64_t kMatchTimeoutUsec = 4 * kCallTimeoutUsec;
// How often the units are listed besides the signals.
constexpr auto kListEvery = std::chrono::milliseconds(250);

struct MessageDeleter {
  void operator()(sd_bus_message* m) const { sd_bus_message_unref(m); }
};
using Message = std::unique_ptr<sd_bus_message, MessageDeleter>;

Error BusFailure(const std::string& what, int r) {
  return Error(ErrorKind::kUnavailable, what + ": " + std::strerror(-r));
}

}  // namespace

struct AgentKiller::Bus {
  sd_bus* bus = nullptr;
  std::set<std::string> removed;  // agents whose unit systemd unloaded, by name
  // The last job systemd made for each agent's unit since the matches were
  // added: the stop novad queued (nothing else makes a job for a live agent).
  std::map<std::string, std::string> stop_jobs;
  std::set<std::string> stopped;  // agents whose stop job ended "done"
  bool job_ended = false;         // another job of an agent's unit ended: list again

  ~Bus() {
    if (bus) sd_bus_flush_close_unref(bus);
  }

  // A call that fails is thrown as novad's error.
  Message Call(sd_bus_message* request, const std::string& what) {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    int r = sd_bus_call(bus, request, kCallTimeoutUsec, &error, &reply);
    if (r < 0) {
      Error e = sd_bus_error_is_set(&error)
                    ? NovadError(error.name, error.message ? error.message : "")
                    : BusFailure(what, r);
      sd_bus_error_free(&error);
      throw e;
    }
    return Message(reply);
  }

  Message NewCall(const char* service, const char* path, const char* interface,
                  const char* method) {
    sd_bus_message* m = nullptr;
    int r = sd_bus_message_new_method_call(bus, &m, service, path, interface, method);
    if (r < 0) throw BusFailure("building a call", r);
    return Message(m);
  }

  // The states of those of `names` whose units systemd has loaded.
  std::map<std::string, UnitState> States(const std::vector<std::string>& names) {
    auto m = NewCall(kSystemd, kSystemdPath, kSystemdManager, "ListUnitsByPatterns");
    int r = sd_bus_message_append_strv(m.get(), nullptr);
    if (r >= 0) r = sd_bus_message_open_container(m.get(), 'a', "s");
    for (size_t i = 0; r >= 0 && i < names.size(); ++i) {
      r = sd_bus_message_append_basic(m.get(), 's', AgentUnit(names[i]).c_str());
    }
    if (r >= 0) r = sd_bus_message_close_container(m.get());
    if (r < 0) throw BusFailure("building a call", r);
    auto reply = Call(m.get(), "listing the agents' units");
    std::map<std::string, UnitState> states;
    r = sd_bus_message_enter_container(reply.get(), 'a', "(ssssssouso)");
    while (r > 0) {
      const char *id = nullptr, *description, *load, *active = nullptr, *sub = nullptr;
      const char *following, *path, *job_type, *job_path;
      uint32_t job_id = 0;
      r = sd_bus_message_read(reply.get(), "(ssssssouso)", &id, &description, &load, &active, &sub,
                              &following, &path, &job_id, &job_type, &job_path);
      if (r <= 0) break;
      if (auto name = AgentNameFromUnit(id)) states[*name] = UnitState{active, sub, job_id};
    }
    if (r < 0) throw BusFailure("reading systemd's units", r);
    return states;
  }

  // Handles what arrived (the signals), without waiting.
  void Drain() {
    int r;
    while ((r = sd_bus_process(bus, nullptr)) > 0) {
    }
    if (r < 0) throw BusFailure("reading the bus", r);
  }
};

AgentKiller::AgentKiller() : bus_(std::make_unique<Bus>()) {
  RefuseInsideAgent();
  int r = sd_bus_open_system(&bus_->bus);
  if (r < 0) {
    bus_->bus = nullptr;
    throw BusFailure("cannot connect to the system bus", r);
  }
  // The match before anything is asked, as systemctl does; sent without
  // waiting: the bus keeps a connection's messages in order. Their answers
  // are dispatched only after the call to novad returns, and sd-bus closes
  // the connection when a match's answer comes after its call timeout (by
  // default 25 s, shorter than a KillMany of hundreds of agents on a busy
  // host: "Connection reset by peer" once the call returned). dbus-daemon
  // answers a match itself, at once: the default timeout only has to
  // outlast novactl's own calls.
  r = sd_bus_set_method_call_timeout(bus_->bus, kMatchTimeoutUsec);
  if (r < 0) throw BusFailure("cannot set up the system bus connection", r);
  auto on_removed = [](sd_bus_message* m, void* userdata, sd_bus_error*) -> int {
    const char *id = nullptr, *path = nullptr;
    if (sd_bus_message_read(m, "so", &id, &path) > 0) {
      if (auto name = AgentNameFromUnit(id)) static_cast<Bus*>(userdata)->removed.insert(*name);
    }
    return 0;
  };
  r = sd_bus_match_signal_async(bus_->bus, nullptr, kSystemd, kSystemdPath, kSystemdManager,
                                "UnitRemoved", on_removed, nullptr, bus_.get());
  // The stop job's end "done" is the moment the agent is stopped, as it is
  // for systemctl stop, which knows its job from its own call; novactl learns
  // it from JobNew (novad makes the call). Any other end is checked by a
  // listing at once, not at the next tick.
  auto on_job_new = [](sd_bus_message* m, void* userdata, sd_bus_error*) -> int {
    uint32_t id = 0;
    const char *job = nullptr, *unit = nullptr;
    if (sd_bus_message_read(m, "uos", &id, &job, &unit) > 0) {
      if (auto name = AgentNameFromUnit(unit)) static_cast<Bus*>(userdata)->stop_jobs[*name] = job;
    }
    return 0;
  };
  auto on_job_removed = [](sd_bus_message* m, void* userdata, sd_bus_error*) -> int {
    uint32_t id = 0;
    const char *job = nullptr, *unit = nullptr, *result = nullptr;
    if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) <= 0) return 0;
    auto name = AgentNameFromUnit(unit);
    if (!name) return 0;
    auto* bus = static_cast<Bus*>(userdata);
    auto it = bus->stop_jobs.find(*name);
    if (it != bus->stop_jobs.end() && it->second == job && std::strcmp(result, "done") == 0) {
      bus->stopped.insert(*name);
    } else {
      bus->job_ended = true;
    }
    return 0;
  };
  if (r >= 0) {
    r = sd_bus_match_signal_async(bus_->bus, nullptr, kSystemd, kSystemdPath, kSystemdManager,
                                  "JobNew", on_job_new, nullptr, bus_.get());
  }
  if (r >= 0) {
    r = sd_bus_match_signal_async(bus_->bus, nullptr, kSystemd, kSystemdPath, kSystemdManager,
                                  "JobRemoved", on_job_removed, nullptr, bus_.get());
  }
  // systemd sends its signals once any client subscribed (novad's workers
  // are); subscribing too makes that sure.
  if (r >= 0) {
    r = sd_bus_call_method_async(bus_->bus, nullptr, kSystemd, kSystemdPath, kSystemdManager,
                                 "Subscribe", nullptr, nullptr, "");
  }
  if (r < 0) throw BusFailure("cannot watch systemd's units", r);
}

AgentKiller::~AgentKiller() = default;

std::vector<AgentKiller::Refusal> AgentKiller::Kill(const std::vector<std::string>& names,
                                                    bool force) {
  std::vector<Refusal> refused;
  if (names.empty()) return refused;
  if (names.size() == 1) {
    try {
      // Asked again while novad is Busy (its queue, or this user's share of
      // it, full), as every novactl call is; a sent message cannot be resent.
      RetryWhileBusy([&] {
        auto m = bus_->NewCall(kBusName, kObjectPath, kNovaManager, "Kill");
        int force_arg = force;
        int r = sd_bus_message_append(m.get(), "sb", names.front().c_str(), force_arg);
        if (r < 0) throw BusFailure("building a call", r);
        bus_->Call(m.get(), "calling novad");
      });
      queued_.push_back(names.front());
    } catch (const Error& e) {
      // The whole call refused is the one name refused, but for novad's
      // absence, which is the caller's problem, not the name's.
      if (e.kind() == ErrorKind::kUnavailable) throw;
      refused.push_back({names.front(), e.kind(), e.what()});
    }
    return refused;
  }
  Message reply;
  RetryWhileBusy([&] {
    auto m = bus_->NewCall(kBusName, kObjectPath, kNovaManager, "KillMany");
    int r = sd_bus_message_open_container(m.get(), 'a', "s");
    for (size_t i = 0; r >= 0 && i < names.size(); ++i) {
      r = sd_bus_message_append_basic(m.get(), 's', names[i].c_str());
    }
    if (r >= 0) r = sd_bus_message_close_container(m.get());
    int force_arg = force;
    if (r >= 0) r = sd_bus_message_append_basic(m.get(), 'b', &force_arg);
    if (r < 0) throw BusFailure("building a call", r);
    reply = bus_->Call(m.get(), "calling novad");
  });
  std::set<std::string> not_stopped;
  int r = sd_bus_message_enter_container(reply.get(), 'a', "(sss)");
  while (r > 0) {
    const char *name = nullptr, *error = nullptr, *message = nullptr;
    r = sd_bus_message_read(reply.get(), "(sss)", &name, &error, &message);
    if (r > 0) {
      Error e = NovadError(error, message);
      refused.push_back({name, e.kind(), e.what()});
      not_stopped.insert(name);
    }
  }
  if (r < 0) throw BusFailure("reading novad's reply", r);
  for (const auto& n : names) {
    if (!not_stopped.count(n)) queued_.push_back(n);
  }
  return refused;
}

void AgentKiller::WaitUntilStopped(bool force) {
  if (queued_.empty()) return;
  Config config = LoadConfig(kConfigPath);
  Usec deadline = config.timeout_stop + std::chrono::seconds(30);
  StopTracker tracker(queued_);
  auto start = StopTracker::Clock::now();
  auto next_listing = start + kListEvery;
  std::map<std::string, UnitState> last;
  bool told = false;
  // The deadline counts from the last agent stopped: systemd tears hundreds of
  // sandboxed agents down one after the other, and a mass kill that keeps
  // making progress is not stuck.
  size_t total = queued_.size(), last_left = total;
  auto progress_at = start;
  auto next_progress_line = start + std::chrono::seconds(10);
  for (;;) {
    bus_->Drain();
    auto now = StopTracker::Clock::now();
    std::map<std::string, UnitState> states;
    if (now >= next_listing || bus_->job_ended) {
      bus_->job_ended = false;
      last = bus_->States(tracker.remaining());
      next_listing = now + kListEvery;
      states = last;
    } else {
      // Between listings, what the last one said of those not removed since.
      for (const auto& name : tracker.remaining()) {
        if (auto it = last.find(name); it != last.end()) {
          states[name] = it->second;
        } else if (!bus_->removed.count(name)) {
          states[name] = UnitState{"active", ""};  // not listed yet: assume live
        }
      }
    }
    for (const auto& name : bus_->removed) states.erase(name);
    for (const auto& name : bus_->stopped) states[name] = UnitState{"inactive", "dead"};
    const auto& left = tracker.Update(states);
    if (left.empty()) return;
    if (left.size() < last_left) {
      last_left = left.size();
      progress_at = now;
    }
    auto waited = now - start;
    if (now - progress_at > deadline) {
      auto it = last.find(left.front());
      std::string unit = AgentUnit(left.front());
      throw Error(ErrorKind::kFailed,
                  "agent \"" + left.front() + "\" is still " +
                      (it != last.end() ? it->second.active_state : std::string("loaded")) +
                      " after " + FormatDuration(deadline) +
                      (total > 1 ? " without another agent stopping" : "") +
                      (left.size() > 1 ? " (and " + std::to_string(left.size() - 1) + " more)"
                                       : std::string()) +
                      "; see systemctl status " + unit);
    }
    if (!told && !force && waited > std::chrono::seconds(1)) {
      std::cerr << "Waiting for "
                << (left.size() == 1 ? "agent " + left.front()
                                     : std::to_string(left.size()) + " agents")
                << " to stop (SIGKILL after " << FormatDuration(config.timeout_stop) << ")..."
                << std::endl;
      told = true;
    }
    if (total > 1 && now >= next_progress_line) {
      std::cerr << (total - left.size()) << " of " << total << " agents stopped..." << std::endl;
      next_progress_line = now + std::chrono::seconds(10);
    }
    auto wait = std::chrono::duration_cast<std::chrono::microseconds>(next_listing -
                                                                      StopTracker::Clock::now());
    int r = sd_bus_wait(bus_->bus, wait.count() > 0 ? static_cast<uint64_t>(wait.count()) : 0);
    if (r < 0 && r != -EINTR) throw BusFailure("waiting on the bus", r);
  }
}

std::vector<std::string> AgentsToKill(const std::vector<AgentUnitInfo>& agents,
                                      const std::optional<std::string>& user) {
  std::vector<std::string> names;
  for (const auto& a : agents) {
    if (a.live() && (!user || a.user == *user)) names.push_back(a.name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace nova
