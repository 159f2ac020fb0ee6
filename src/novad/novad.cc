// novad: owns org.nova.Nova1 on the system bus and runs Nova's policy. Agents
// live in systemd and outcomes in files, so a restart or an upgrade of novad
// loses no agent and touches none; only the admission gate's hysteresis state
// is in memory, and it starts open.
#include <poll.h>
#include <sdbus-c++/sdbus-c++.h>
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <iostream>
#include <optional>

#include "admission.h"
#include "agent_manager.h"
#include "build_config.h"
#include "config.h"
#include "errors.h"
#include "meminfo.h"
#include "memory_watch.h"
#include "metrics.h"
#include "nova_service.h"
#include "outcome.h"
#include "priority_policy.h"
#include "priority_sweep.h"
#include "psi.h"
#include "sdbus_compat.h"
#include "size.h"
#include "systemd.h"
#include "watch_host.h"

namespace {

using Clock = std::chrono::steady_clock;

// The PSI window the PressureStall threshold is measured in.
constexpr std::chrono::seconds kPressureWindow(1);

int MillisecondsUntil(Clock::time_point when, Clock::time_point now) {
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(when - now).count();
  return static_cast<int>(std::max<int64_t>(ms, 0));
}

void LogPriorityPolicy(const nova::PriorityPolicy& priority) {
  if (priority.enabled) {
    spdlog::info(
        "process priority management enabled (CODER_PROC_PRIO_MGMT=\"{}\", os linux): "
        "agents get oom_score_adj {} and nice {}",
        std::getenv("CODER_PROC_PRIO_MGMT"), priority.oom_score_adj, priority.nice);
  } else {
    spdlog::info(
        "process priority management not enabled (linux-only) (CODER_PROC_PRIO_MGMT unset, "
        "os linux)");
  }
  for (const auto& problem : priority.problems) spdlog::error("{}", problem);
}

std::optional<nova::PressureTrigger> ArmPressureTrigger(const nova::Config& config) {
  if (config.pressure_stall.count() == 0) return std::nullopt;
  std::string why;
  auto trigger = nova::PressureTrigger::Open(config.pressure_stall, kPressureWindow, &why);
  if (!trigger) {
    spdlog::warn("memory PSI trigger unavailable ({}); the watcher relies on polling", why);
  }
  return trigger;
}

int Run(const std::string& config_path) {
  nova::Config config = nova::LoadConfig(config_path);
  auto systemd = nova::ConnectSystemd();
  nova::OutcomeStore outcomes(nova::kStateDir, nova::kRuntimeDir);
  nova::PriorityPolicy priority = nova::ReadPriorityPolicy();
  LogPriorityPolicy(priority);

  nova::AdmissionGate gate(config);
  nova::Metrics metrics;
  nova::LinuxWatchHost linux_host(*systemd, outcomes);
  nova::CountingWatchHost watch_host(linux_host, metrics, config.relief_percent);
  nova::MemoryWatcher watcher(config, watch_host, gate);
  nova::AgentManager manager(*systemd, config, outcomes, nova::ReadHostMemory, nova::kAgentHookPath,
                             priority, &gate, &metrics);

  auto agents = systemd->AgentStates();
  spdlog::info("novad {} starting: systemd {}, {} running agent(s) found", nova::kVersion,
               systemd->Version(), std::count_if(agents.begin(), agents.end(), [](auto& a) {
                 return a.second.live();
               }));

  auto pressure = ArmPressureTrigger(config);
  spdlog::info(
      "memory watcher: admission closes at {}% (reopens below {}%), relief at {}% down to "
      "below {}%{}; /proc/meminfo every {} to {}, {}",
      config.admission_percent, config.admission_reopen_percent, config.relief_percent,
      config.relief_target_percent, config.relief_dry_run ? " (dry run: reports only)" : "",
      nova::FormatDuration(config.watch_interval_max),
      nova::FormatDuration(config.watch_interval_min),
      pressure ? "PSI trigger at " + nova::FormatDuration(config.pressure_stall) + " stall per 1s"
               : std::string("no PSI trigger"));

  spdlog::info(
      "limits: callers other than root get at most {} memory, {} tasks and {} per agent and {} "
      "agent(s) each; admission {}",
      nova::FormatSize(config.memory_max_ceiling), config.tasks_max_ceiling,
      nova::FormatDuration(config.runtime_max_ceiling),
      config.max_agents_per_user == 0 ? std::string("unlimited")
                                      : std::to_string(config.max_agents_per_user),
      config.max_agents == 0
          ? "by memory (MaxAgents=auto: " +
                nova::FormatSize(nova::MemoryForAgents(config, nova::ReadHostMemory().total)) +
                " set aside for agents)"
          : "by count (MaxAgents=" + std::to_string(config.max_agents) + ")");

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  int signal_fd = signalfd(-1, &mask, SFD_CLOEXEC);

  auto connection = sdbus::createSystemBusConnection();
  nova::NovaService service(*connection, manager, watcher);
  connection->requestName(nova::sdbus_compat::ServiceName(nova::kBusName));
  spdlog::info("serving {} on the system bus", nova::kBusName);

  // The gate's state for `novactl status`: published at start (open) and
  // at each change, whether the watcher's check or a relief made it.
  std::string admission_file = std::string(nova::kRuntimeDir) + "/" + nova::kAdmissionStateFile;
  std::optional<bool> published;
  auto publish_admission = [&] {
    if (published == gate.open()) return;
    nova::AdmissionState state{gate.open(), nova::RealtimeUsec(),
                               nova::ReadHostMemory().used_percent()};
    try {
      nova::WriteAdmissionState(admission_file, state);
      published = gate.open();
    } catch (const nova::Error& e) {
      spdlog::warn("{}; novactl status cannot tell whether admission is closed", e.what());
      published = gate.open();  // said once
    }
  };
  publish_admission();

  nova::MetricsWriter metrics_writer(config.metrics_file, metrics, [&gate] { return gate.open(); });
  nova::PrioritySweeper sweeper(priority);
  auto next_sweep = Clock::now();
  auto next_check = Clock::now();

  for (;;) {
    auto now = Clock::now();
    if (now >= next_check) {
      next_check = Clock::now() + watcher.Check();
      now = Clock::now();
    }
    if (priority.enabled && now >= next_sweep) {
      sweeper.Sweep();
      next_sweep = now + nova::PrioritySweeper::kInterval;
    }
    while (nova::sdbus_compat::ProcessPending(*connection)) {
    }
    publish_admission();

    now = Clock::now();
    int timeout = MillisecondsUntil(next_check, now);
    if (priority.enabled) timeout = std::min(timeout, MillisecondsUntil(next_sweep, now));
    auto poll_data = connection->getEventLoopPollData();
    int bus_timeout = poll_data.getPollTimeout();
    if (bus_timeout >= 0) timeout = std::min(timeout, bus_timeout);
    // The signal fd, the PSI trigger, then the bus's descriptors.
    std::array<pollfd, 2 + nova::sdbus_compat::kBusPollFdCount> fds{
        {{signal_fd, POLLIN, 0}, {pressure ? pressure->fd() : -1, POLLPRI, 0}}};
    auto bus_fds = nova::sdbus_compat::PollFds(poll_data);
    std::copy(bus_fds.begin(), bus_fds.end(), fds.begin() + 2);
    if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) {
      throw nova::Error(nova::ErrorKind::kFailed, std::string("poll: ") + std::strerror(errno));
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      if (read(signal_fd, &info, sizeof info) > 0) {
        spdlog::info("received signal {}, stopping; agents keep running", info.ssi_signo);
      }
      return 0;
    }
    if (fds[1].revents & POLLPRI) {
      next_check = Clock::now();  // memory pressure: look now
    } else if (fds[1].revents & (POLLERR | POLLNVAL)) {
      spdlog::warn("memory PSI trigger failed; the watcher relies on polling");
      pressure.reset();
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  // journald adds the timestamp and the unit; keep the lines plain.
  auto logger = spdlog::stdout_logger_mt("novad");
  logger->set_pattern("%l: %v");
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);

  std::string config_path = nova::kConfigPath;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--version") {
      std::cout << "novad " << nova::kVersion << std::endl;
      return 0;
    } else {
      std::cout << "usage: novad [--config FILE] [--version]\n\n"
                   "The Nova daemon; run by systemd as novad.service. Configuration: "
                << nova::kConfigPath << " (see novad(8)).\n";
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  try {
    return Run(config_path);
  } catch (const nova::Error& e) {
    spdlog::critical("{}", e.what());
    return nova::ExitCodeFor(e.kind());
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
}
