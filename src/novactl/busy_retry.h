// novad refuses a call at once when its queue, or the caller's share of it
// (4 calls per user but root), is full: it holds nothing for a refused call,
// so a flood costs it only the refusals. novactl asks again instead of
// failing, after a short pause that grows and is jittered (so that parallel
// clients of one user, more than novad runs for them at once, all get
// through without hammering it), says so on stderr after a while, and gives
// up with the Busy error (exit 9) once its patience is spent.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace nova {

struct BusyRetry {
  std::chrono::milliseconds patience{std::chrono::seconds(60)};  // then exit 9
  std::chrono::milliseconds say_after{std::chrono::seconds(3)};  // then one line on stderr
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<std::chrono::steady_clock::time_point()> now;
  std::function<void(const std::string&)> say;
  std::function<uint32_t()> random;
};

// The real clock, sleep, stderr and a random source.
BusyRetry DefaultBusyRetry();

// The pause before asking again the `attempt`-th time (0 = first retry):
// 10 ms doubling up to 500 ms, of which `random` takes off up to half.
std::chrono::milliseconds BusyPause(int attempt, uint32_t random);

// Runs `call` until it ends other than with a Busy Error, or `how.patience`
// passed; rethrows the last Busy then.
void RetryWhileBusy(const std::function<void()>& call, const BusyRetry& how = DefaultBusyRetry());

}  // namespace nova
