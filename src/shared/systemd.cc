// The sdbus-c++ implementation of the Systemd interface. It follows
// systemd-run: one private connection, subscribed, and matching JobRemoved
// before the job is created; the reply's job path is then awaited by
// dispatching queued and new messages until the job is removed or the
// deadline passes. The match lasts as long as the wait: an idle connection
// is sent nothing (novad keeps eight workers' connections, and under churn
// dbus-daemon would queue every job's signal for each). Nothing here runs a
// thread; novad gives each of its threads a connection of its own.
#include "systemd.h"

#include <poll.h>
#include <sdbus-c++/sdbus-c++.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>

#include "agent_name.h"
#include "bus_batch.h"
#include "errors.h"
#include "sdbus_compat.h"
#include "systemd_manager_proxy.h"

namespace nova {
namespace {

constexpr const char* kSystemdService = "org.freedesktop.systemd1";
constexpr const char* kSystemdPath = "/org/freedesktop/systemd1";
constexpr const char* kNoSuchUnit = "org.freedesktop.systemd1.NoSuchUnit";
constexpr const char* kUnitExists = "org.freedesktop.systemd1.UnitExists";

using DbusProperties = std::vector<sdbus::Struct<std::string, sdbus::Variant>>;
using ExecStartEntries =
    std::vector<sdbus::Struct<std::string, std::vector<std::string>, bool, uint64_t, uint64_t,
                              uint64_t, uint64_t, uint32_t, int32_t, int32_t>>;

sdbus::Variant ToVariant(const PropertyValue& value) {
  return std::visit(
      [](const auto& v) -> sdbus::Variant {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::vector<ExecCommand>>) {
          std::vector<sdbus::Struct<std::string, std::vector<std::string>, bool>> out;
          for (const auto& c : v) out.emplace_back(c.path, c.argv, c.ignore_failure);
          return sdbus::Variant(out);
        } else if constexpr (std::is_same_v<T, std::vector<CredentialFile>>) {
          std::vector<sdbus::Struct<std::string, std::string>> out;
          for (const auto& c : v) out.emplace_back(c.name, c.path);
          return sdbus::Variant(out);
        } else if constexpr (std::is_same_v<T, std::vector<MonotonicTimer>>) {
          std::vector<sdbus::Struct<std::string, uint64_t>> out;
          for (const auto& t : v) out.emplace_back(t.base, t.usec);
          return sdbus::Variant(out);
        } else if constexpr (std::is_same_v<T, std::vector<IpPrefix>>) {
          std::vector<sdbus::Struct<int32_t, std::vector<uint8_t>, uint32_t>> out;
          for (const auto& p : v) out.emplace_back(p.family, p.address, p.prefix_length);
          return sdbus::Variant(out);
        } else if constexpr (std::is_same_v<T, NameFilter>) {
          return sdbus::Variant(sdbus::Struct<bool, std::vector<std::string>>(v.allow, v.names));
        } else if constexpr (std::is_same_v<T, std::vector<BindPath>>) {
          std::vector<sdbus::Struct<std::string, std::string, bool, uint64_t>> out;
          for (const auto& b : v)
            out.emplace_back(b.source, b.destination, b.ignore_missing, b.flags);
          return sdbus::Variant(out);
        } else if constexpr (std::is_same_v<T, std::vector<TemporaryFileSystem>>) {
          std::vector<sdbus::Struct<std::string, std::string>> out;
          for (const auto& t : v) out.emplace_back(t.path, t.options);
          return sdbus::Variant(out);
        } else {
          return sdbus::Variant(v);
        }
      },
      value);
}

DbusProperties ToDbus(const UnitProperties& properties) {
  DbusProperties out;
  for (const auto& p : properties) out.emplace_back(p.name, ToVariant(p.value));
  return out;
}

template <typename T>
T Get(const std::map<std::string, sdbus::Variant>& props, const std::string& name, T fallback) {
  auto it = props.find(name);
  if (it == props.end() || !it->second.containsValueOfType<T>()) return fallback;
  return it->second.get<T>();
}

// The last NOVA_AGENT_SANDBOX= entry, as systemd applies the last one.
std::string SandboxFromEnvironment(const std::vector<std::string>& environment) {
  std::string profile = "none";
  constexpr std::string_view kPrefix = "NOVA_AGENT_SANDBOX=";
  for (const auto& entry : environment) {
    if (entry.starts_with(kPrefix)) profile = entry.substr(kPrefix.size());
  }
  return profile;
}

uint64_t NowUsec(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

Error Translate(const sdbus::Error& e, const std::string& what) {
  return Error(ErrorKindFromDbusName(e.getName()) == ErrorKind::kUnavailable
                   ? ErrorKind::kUnavailable
                   : ErrorKind::kFailed,
               what + ": " + e.getMessage() + " (" + e.getName() + ")");
}

class ManagerProxy final
    : public sdbus::ProxyInterfaces<org::freedesktop::systemd1::Manager_proxy> {
 public:
  explicit ManagerProxy(sdbus::IConnection& connection)
      : ProxyInterfaces(connection, sdbus_compat::ServiceName(kSystemdService),
                        sdbus_compat::ObjectPath(kSystemdPath)) {
    registerProxy();
  }
  ~ManagerProxy() { unregisterProxy(); }
};

class SdbusSystemd final : public Systemd {
 public:
  explicit SdbusSystemd(SecondConnection second)
      : connection_(sdbus::createSystemBusConnection()), manager_(*connection_) {
    manager_.Subscribe();
    if (second == SecondConnection::kNow) RawBus();
  }
  ~SdbusSystemd() override {
    if (raw_bus_ != nullptr) sd_bus_flush_close_unref(raw_bus_);
  }

  unsigned Version() override {
    if (version_ == 0) {
      std::string version = manager_.Version();
      version_ = static_cast<unsigned>(std::strtoul(version.c_str(), nullptr, 10));
    }
    return version_;
  }

  std::string StartTransientUnit(const std::string& unit, const UnitProperties& properties,
                                 const AuxUnits& aux, Usec deadline) override {
    std::vector<sdbus::Struct<std::string, DbusProperties>> dbus_aux;
    for (const auto& [name, props] : aux) dbus_aux.emplace_back(name, ToDbus(props));
    sdbus::ObjectPath job;
    auto match = MatchJobRemoved();
    try {
      job = manager_.StartTransientUnit(unit, "fail", ToDbus(properties), dbus_aux);
    } catch (const sdbus::Error& e) {
      if (e.getName() == kUnitExists) {
        throw Error(ErrorKind::kAlreadyRunning, unit + " already exists");
      }
      if (e.getName() == "org.freedesktop.DBus.Error.InvalidArgs" ||
          e.getName() == "org.freedesktop.DBus.Error.PropertyReadOnly") {
        throw Error(ErrorKind::kInvalidArgument, "systemd refused " + unit + ": " + e.getMessage());
      }
      throw Translate(e, "starting " + unit);
    }
    return WaitForJob(job, deadline);
  }

  std::string StopUnit(const std::string& unit, std::optional<Usec> deadline) override {
    sdbus::ObjectPath job;
    sdbus::Slot match;
    if (deadline) match = MatchJobRemoved();
    try {
      job = manager_.StopUnit(unit, "replace");
    } catch (const sdbus::Error& e) {
      if (e.getName() == kNoSuchUnit) return "done";
      throw Translate(e, "stopping " + unit);
    }
    return deadline ? WaitForJob(job, *deadline) : "queued";
  }

  // Every call in one batch: a round trip for all, not one per unit.
  std::map<std::string, std::string> StopUnits(const std::vector<std::string>& units,
                                               bool force) override {
    std::map<std::string, std::string> failed;
    BusBatch batch(RawBus());
    for (const auto& unit : units) {
      auto check = [&failed, unit](const char* what) {
        return [&failed, unit, what](sd_bus_message* reply, const char* error) {
          if (reply == nullptr && std::strcmp(error, kNoSuchUnit) != 0 && !failed.count(unit)) {
            failed[unit] = std::string(what) + " " + unit + ": " + error;
          }
        };
      };
      if (force) batch.ManagerCall("KillUnit", {unit, "all"}, SIGKILL, check("signalling"));
      batch.ManagerCall("StopUnit", {unit, "replace"}, std::nullopt, check("stopping"));
    }
    batch.Run();
    return failed;
  }

  // One listing of the units, then User= of each in one batch.
  std::map<std::string, AgentOwner> AgentOwners(const std::vector<std::string>& names) override {
    std::map<std::string, AgentOwner> owners;
    if (names.empty()) return owners;
    std::vector<std::string> units;
    for (const auto& name : names) units.push_back(AgentUnit(name));
    BusBatch batch(RawBus());
    for (const auto& u : manager_.ListUnitsByPatterns({}, units)) {
      auto name = AgentNameFromUnit(u.get<0>());
      if (!name) continue;
      AgentOwner& owner = owners[*name];
      owner.state = UnitState{u.get<3>(), u.get<4>()};
      batch.Get(u.get<6>(), "org.freedesktop.systemd1.Service", "User",
                [&owner](sd_bus_message* reply, const char*) {
                  // Gone meanwhile: no longer live.
                  if (reply == nullptr || !ReadVariant(reply, owner.user)) {
                    owner.state = UnitState{"inactive", "dead"};
                  }
                });
    }
    batch.Run();
    return owners;
  }

  void KillUnit(const std::string& unit, const std::string& whom, int signal) override {
    try {
      manager_.KillUnit(unit, whom, signal);
    } catch (const sdbus::Error& e) {
      if (e.getName() == kNoSuchUnit) return;  // already gone: nothing to kill
      throw Translate(e, "signalling " + unit);
    }
  }

  void AttachProcesses(const std::string& unit, const std::vector<uint32_t>& pids) override {
    try {
      manager_.AttachProcessesToUnit(unit, "", pids);
    } catch (const sdbus::Error& e) {
      if (e.getName() == kNoSuchUnit || e.getName() == "org.freedesktop.systemd1.NoUnitForPID") {
        throw Error(ErrorKind::kNotFound, unit + " is gone");
      }
      throw Translate(e, "attaching process(es) to " + unit);
    }
  }

  void ResetFailedUnit(const std::string& unit) override {
    try {
      manager_.ResetFailedUnit(unit);
    } catch (const sdbus::Error& e) {
      if (e.getName() != kNoSuchUnit && e.getName() != "org.freedesktop.systemd1.NotFailed") {
        throw Translate(e, "resetting " + unit);
      }
    }
  }

  std::optional<UnitState> GetUnitState(const std::string& unit) override {
    auto units = manager_.ListUnitsByPatterns({}, {unit});
    if (units.empty()) return std::nullopt;
    return UnitState{units.front().get<3>(), units.front().get<4>()};
  }

  std::map<std::string, UnitState> UnitStates(const std::vector<std::string>& units) override {
    std::map<std::string, UnitState> states;
    for (const auto& u : manager_.ListUnitsByPatterns({}, units)) {
      states[u.get<0>()] = UnitState{u.get<3>(), u.get<4>(), u.get<7>()};
    }
    return states;
  }

  uint32_t MainPid(const std::string& unit) override {
    try {
      auto proxy = sdbus::createProxy(*connection_, sdbus_compat::ServiceName(kSystemdService),
                                      sdbus_compat::ObjectPath(UnitObjectPath(unit)));
      return proxy->getProperty("MainPID")
          .onInterface("org.freedesktop.systemd1.Service")
          .get<uint32_t>();
    } catch (const sdbus::Error&) {
      return 0;  // gone meanwhile
    }
  }

  std::optional<AgentUnitInfo> GetAgent(const std::string& name) override {
    auto units = manager_.ListUnitsByPatterns({}, {AgentUnit(name)});
    if (units.empty()) return std::nullopt;
    auto agents = DescribeAll(
        {Listed{name, units.front().get<6>(), units.front().get<3>(), units.front().get<4>()}},
        SoftTimerUnit(name));
    if (agents.empty()) return std::nullopt;
    return agents.front();
  }

  std::map<std::string, UnitState> AgentStates() override {
    std::map<std::string, UnitState> states;
    for (const auto& u : manager_.ListUnitsByPatterns({}, {"nova-agent-*.service"})) {
      if (auto name = AgentNameFromUnit(u.get<0>())) {
        states[*name] = UnitState{u.get<3>(), u.get<4>()};
      }
    }
    return states;
  }

  std::vector<AgentUnitInfo> ListAgentsWith(
      AgentFields fields, const std::vector<std::string>& units,
      std::map<std::string, UnitState>* unit_states) override {
    std::vector<std::string> patterns = {"nova-agent-*.service"};
    patterns.insert(patterns.end(), units.begin(), units.end());
    std::vector<AgentUnitInfo> agents;
    std::vector<std::string> paths;
    unit_states->clear();
    for (const auto& u : manager_.ListUnitsByPatterns({}, patterns)) {
      const std::string& unit = u.get<0>();
      UnitState state{u.get<3>(), u.get<4>(), u.get<7>()};
      // Only exact names count as asked about: a name with glob characters
      // would have matched others (agent names have none).
      if (std::find(units.begin(), units.end(), unit) != units.end()) (*unit_states)[unit] = state;
      if (auto name = AgentNameFromUnit(unit)) {
        AgentUnitInfo& info = agents.emplace_back();
        info.name = *name;
        info.unit = unit;
        info.active_state = state.active_state;
        info.sub_state = state.sub_state;
        paths.push_back(u.get<6>());
      }
    }
    if (fields.memory_max) {
      // One small Get a live agent, not a GetAll of its hundreds of
      // properties: with 300 agents, megabytes less per spawn.
      BusBatch batch(RawBus());
      for (size_t i = 0; i < agents.size(); ++i) {
        AgentUnitInfo& info = agents[i];
        if (!info.live()) continue;
        batch.Get(paths[i], "org.freedesktop.systemd1.Service", "MemoryMax",
                  [&info](sd_bus_message* reply, const char*) {
                    if (reply == nullptr || !ReadVariant(reply, info.memory_max)) {
                      info.active_state = "inactive";  // gone meanwhile: no longer live
                      info.sub_state = "dead";
                    }
                  });
      }
      batch.Run();
    }
    std::sort(agents.begin(), agents.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    return agents;
  }

  // The three properties in one batch: one round trip instead of a listing
  // and a Get. A unit systemd no longer has fails the Gets (or reads
  // inactive, as systemd loads a unit for a path asked about).
  std::optional<std::pair<UnitState, uint32_t>> ServiceState(const std::string& unit) override {
    std::string path = UnitObjectPath(unit);
    UnitState state;
    uint32_t pid = 0;
    bool gone = false;
    BusBatch batch(RawBus());
    auto read_string = [&gone](std::string& out) {
      return [&gone, &out](sd_bus_message* reply, const char*) {
        if (reply == nullptr || !ReadVariant(reply, out)) gone = true;
      };
    };
    batch.Get(path, "org.freedesktop.systemd1.Unit", "ActiveState",
              read_string(state.active_state));
    batch.Get(path, "org.freedesktop.systemd1.Unit", "SubState", read_string(state.sub_state));
    batch.Get(path, "org.freedesktop.systemd1.Service", "MainPID",
              [&pid](sd_bus_message* reply, const char*) {
                if (reply != nullptr) ReadVariant(reply, pid);
              });
    batch.Run();
    if (gone) return std::nullopt;
    return std::make_pair(state, pid);
  }

  void DrainMessages() override {
    while (sdbus_compat::ProcessPending(*connection_)) {
    }
  }

  // Two listings, then every agent's properties read in one batch: a constant
  // number of round trips whatever the number of agents.
  std::vector<AgentUnitInfo> ListAgents() override {
    std::vector<Listed> listed;
    for (const auto& u : manager_.ListUnitsByPatterns({}, {"nova-agent-*.service"})) {
      if (auto name = AgentNameFromUnit(u.get<0>())) {
        listed.push_back(Listed{*name, u.get<6>(), u.get<3>(), u.get<4>()});
      }
    }
    if (listed.empty()) return {};
    auto agents = DescribeAll(listed, "nova-soft-*.timer");
    std::sort(agents.begin(), agents.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    return agents;
  }

 private:
  // An agent unit as ListUnitsByPatterns reported it.
  struct Listed {
    std::string name;
    std::string path;
    std::string active_state;
    std::string sub_state;
  };

  // Connected, authenticated and named before it is handed out: sd-bus
  // finishes that only when the bus is next used, and dbus-daemon drops a
  // connection left unauthenticated past its auth_timeout (a worker's first
  // call on one opened at start failed so, "Transport endpoint is not
  // connected", 35 s later).
  sd_bus* RawBus() {
    if (raw_bus_ == nullptr) {
      sd_bus* bus = nullptr;
      const char* unique_name = nullptr;
      int r = sd_bus_open_system(&bus);
      if (r >= 0) r = sd_bus_get_unique_name(bus, &unique_name);
      if (r < 0) {
        sd_bus_flush_close_unref(bus);
        throw Error(ErrorKind::kUnavailable,
                    std::string("cannot connect to the system bus: ") + std::strerror(-r));
      }
      raw_bus_ = bus;
    }
    return raw_bus_;
  }

  // The service's properties (one GetAll), when it became active and its
  // soft deadline (one Get each), for every listed agent, all in one batch.
  // An agent whose unit went away meanwhile is left out: it is no longer live.
  std::vector<AgentUnitInfo> DescribeAll(const std::vector<Listed>& listed,
                                         const std::string& timer_pattern) {
    std::map<std::string, std::string> timer_paths;  // agent name -> the timer's object path
    for (const auto& t : manager_.ListUnitsByPatterns({"active"}, {timer_pattern})) {
      if (auto name = AgentNameFromSoftTimer(t.get<0>())) timer_paths[*name] = t.get<6>();
    }
    uint64_t now_mono = NowUsec(CLOCK_MONOTONIC);
    uint64_t now_real = NowUsec(CLOCK_REALTIME);
    std::vector<AgentUnitInfo> infos(listed.size());
    std::vector<char> gone(listed.size(), 0);
    BusBatch batch(RawBus());
    for (size_t i = 0; i < listed.size(); ++i) {
      AgentUnitInfo& info = infos[i];
      info.name = listed[i].name;
      info.unit = AgentUnit(listed[i].name);
      info.active_state = listed[i].active_state;
      info.sub_state = listed[i].sub_state;
      batch.GetAll(listed[i].path, "org.freedesktop.systemd1.Service",
                   [&info, &gone, i](sd_bus_message* reply, const char*) {
                     if (reply == nullptr || !ReadServiceProperties(reply, info)) gone[i] = 1;
                   });
      batch.Get(listed[i].path, "org.freedesktop.systemd1.Unit", "ActiveEnterTimestamp",
                [&info](sd_bus_message* reply, const char*) {
                  if (reply != nullptr) ReadVariant(reply, info.active_enter_usec);
                });
      if (auto it = timer_paths.find(listed[i].name); it != timer_paths.end()) {
        batch.Get(it->second, "org.freedesktop.systemd1.Timer", "NextElapseUSecMonotonic",
                  [&info, now_mono, now_real](sd_bus_message* reply, const char*) {
                    uint64_t next = 0;
                    if (reply != nullptr && ReadVariant(reply, next)) {
                      info.soft_deadline_usec = SoftDeadlineRealtime(next, now_mono, now_real);
                    }
                  });
      }
    }
    batch.Run();
    std::vector<AgentUnitInfo> agents;
    for (size_t i = 0; i < infos.size(); ++i) {
      if (!gone[i]) agents.push_back(std::move(infos[i]));
    }
    return agents;
  }

  static bool ReadServiceProperties(sd_bus_message* reply, AgentUnitInfo& info) {
    std::vector<std::string> environment;
    auto read = [](auto ok) { return static_cast<void>(ok), true; };
    bool ok = ForEachProperty(reply, [&](std::string_view name, sd_bus_message* m) {
      if (name == "MainPID") return read(ReadVariant(m, info.main_pid));
      if (name == "MemoryCurrent") return read(ReadVariant(m, info.memory_current));
      if (name == "MemoryMax") return read(ReadVariant(m, info.memory_max));
      if (name == "TasksCurrent") return read(ReadVariant(m, info.tasks_current));
      if (name == "TasksMax") return read(ReadVariant(m, info.tasks_max));
      if (name == "CPUUsageNSec") return read(ReadVariant(m, info.cpu_usage_nsec));
      if (name == "RuntimeMaxUSec") return read(ReadVariant(m, info.runtime_max_usec));
      if (name == "User") return read(ReadVariant(m, info.user));
      if (name == "WorkingDirectory") return read(ReadVariant(m, info.workdir));
      if (name == "ControlGroup") return read(ReadVariant(m, info.control_group));
      if (name == "Environment") return read(ReadVariant(m, environment));
      if (name == "ExecStart") return read(ReadFirstExecArgv(m, info.argv));
      return false;
    });
    info.sandbox = SandboxFromEnvironment(environment);
    return ok;
  }

  // JobRemoved, until the slot goes; added before the job exists, as
  // systemd-run does. Not narrowed to the unit by arg2: sd-bus matches no
  // argument that follows a non-string one (the job id) and would drop them.
  sdbus::Slot MatchJobRemoved() {
    static const std::string rule = std::string("type='signal',sender='") + kSystemdService +
                                    "',path='" + kSystemdPath +
                                    "',interface='org.freedesktop.systemd1.Manager',"
                                    "member='JobRemoved'";
    return sdbus_compat::AddMatch(*connection_, rule, [this](auto&& message) {
      uint32_t id = 0;
      sdbus::ObjectPath job;
      std::string unit, result;
      message >> id >> job >> unit >> result;
      if (job == awaited_job_) awaited_result_ = result;
    });
  }

  std::string WaitForJob(const sdbus::ObjectPath& job, Usec deadline) {
    awaited_job_ = job;
    awaited_result_.reset();
    uint64_t end = NowUsec(CLOCK_MONOTONIC) + deadline.count();
    for (;;) {
      while (sdbus_compat::ProcessPending(*connection_)) {
        if (awaited_result_) break;
      }
      if (awaited_result_) {
        awaited_job_ = {};
        return *awaited_result_;
      }
      uint64_t now = NowUsec(CLOCK_MONOTONIC);
      if (now >= end) {
        awaited_job_ = {};
        return kJobDeadlinePassed;
      }
      auto poll_data = connection_->getEventLoopPollData();
      int timeout_ms = static_cast<int>((end - now + 999) / 1000);
      int bus_timeout = poll_data.getPollTimeout();
      if (bus_timeout >= 0 && bus_timeout < timeout_ms) timeout_ms = bus_timeout;
      auto fds = sdbus_compat::PollFds(poll_data);
      ::poll(fds.data(), fds.size(), timeout_ms);
    }
  }

  std::unique_ptr<sdbus::IConnection> connection_;
  ManagerProxy manager_;
  // The job being waited for, and its result once its JobRemoved arrived.
  sdbus::ObjectPath awaited_job_;
  std::optional<std::string> awaited_result_;
  unsigned version_ = 0;
  sd_bus* raw_bus_ = nullptr;  // for BusBatch, opened on first use
};

}  // namespace

std::map<std::string, std::string> Systemd::StopUnits(const std::vector<std::string>& units,
                                                      bool force) {
  std::map<std::string, std::string> failed;
  for (const auto& unit : units) {
    try {
      if (force) KillUnit(unit, "all", SIGKILL);
      StopUnit(unit, std::nullopt);
    } catch (const std::exception& e) {
      failed[unit] = e.what();
    }
  }
  return failed;
}

std::vector<AgentUnitInfo> Systemd::ListAgentsWith(AgentFields,
                                                   const std::vector<std::string>& units,
                                                   std::map<std::string, UnitState>* unit_states) {
  *unit_states = UnitStates(units);
  return ListAgents();
}

std::map<std::string, AgentOwner> Systemd::AgentOwners(const std::vector<std::string>& names) {
  std::map<std::string, AgentOwner> owners;
  for (const auto& name : names) {
    if (auto agent = GetAgent(name)) {
      owners[name] = AgentOwner{UnitState{agent->active_state, agent->sub_state}, agent->user};
    }
  }
  return owners;
}

std::string UnitObjectPath(const std::string& unit) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string path = "/org/freedesktop/systemd1/unit/";
  for (unsigned char c : unit) {
    if (std::isalnum(c)) {
      path += static_cast<char>(c);
    } else {
      path += '_';
      path += kHex[c >> 4];
      path += kHex[c & 15];
    }
  }
  return path;
}

std::optional<std::string> AgentNameFromSoftTimer(std::string_view unit) {
  constexpr std::string_view kPrefix = "nova-soft-", kSuffix = ".timer";
  if (!unit.starts_with(kPrefix) || !unit.ends_with(kSuffix)) return std::nullopt;
  std::string name(unit.substr(kPrefix.size(), unit.size() - kPrefix.size() - kSuffix.size()));
  // The same check as for an agent's own unit name.
  if (!AgentNameFromUnit(AgentUnit(name))) return std::nullopt;
  return name;
}

std::optional<uint64_t> SoftDeadlineRealtime(uint64_t next_monotonic, uint64_t now_monotonic,
                                             uint64_t now_realtime) {
  if (next_monotonic == kInfinity || next_monotonic == 0) return std::nullopt;
  return next_monotonic >= now_monotonic ? now_realtime + (next_monotonic - now_monotonic)
                                         : now_realtime;
}

std::unique_ptr<Systemd> ConnectSystemd(SecondConnection second) {
  try {
    return std::make_unique<SdbusSystemd>(second);
  } catch (const sdbus::Error& e) {
    throw Error(ErrorKind::kUnavailable, "cannot reach systemd on the system bus: " +
                                             e.getMessage() + " (Nova needs systemd as PID 1)");
  }
}

}  // namespace nova
