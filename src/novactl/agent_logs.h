// `novactl logs`: an agent's output, from the journal, made safe for a
// terminal. What an agent prints is entirely its own: escape sequences that
// retitle or clear the admin's terminal, carriage returns that overwrite a
// line, bytes that are not UTF-8. journalctl --output=cat passes them on raw,
// so novactl reads journalctl's output from a pipe and copies it through
// Printable, line by line.
#pragma once

#include <signal.h>

#include <string>
#include <string_view>
#include <vector>

namespace nova {

// Escapes a stream of text a line at a time. A line, or a UTF-8 sequence,
// split across two chunks is held back until it is complete, so that it is
// escaped as a whole; '\n' and '\t' pass through.
class PrintableLines {
 public:
  // The first lines longer than this are passed on in pieces (between
  // characters), rather than held back without end.
  static constexpr size_t kMaxHeldBack = 64 * 1024;

  // The lines completed by `chunk`, escaped.
  std::string Feed(std::string_view chunk);

  // Whatever was held back, escaped: the stream ended without a newline.
  std::string Finish();

 private:
  std::string held_back_;
};

// While a command runs for RunPrintable or an agent for `novactl run`: the
// signals that stop novactl (SIGINT, SIGTERM, SIGHUP) are blocked and read
// from a signalfd instead, so that none slips in between two polls, and
// SIGPIPE is ignored, so that a reader going away is an EPIPE to handle.
// Restored after.
class StopSignals {
 public:
  StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  ~StopSignals();

  int fd() const { return fd_; }
  bool pipe_was_ignored() const { return old_pipe_.sa_handler == SIG_IGN; }
  // The next pending stop signal, 0 if none; does not wait.
  int Take();

 private:
  void Restore();

  sigset_t set_;
  sigset_t old_mask_;
  struct sigaction old_pipe_ {};
  int fd_ = -1;
};

// Runs `argv` (its command looked up on PATH) with its standard output on a
// pipe, and copies that output to `out_fd` through PrintableLines. Returns
// the command's exit status, 128+N if a signal N ended it. When `out_fd` is
// closed by its reader (EPIPE), or novactl gets SIGINT, SIGTERM or SIGHUP,
// the command is stopped with SIGTERM and 128+that signal is returned. Throws
// Unavailable if the command cannot be run.
int RunPrintable(const std::vector<std::string>& argv, int out_fd);

// Whether the journal, as far as the caller may read it, has any entry
// matching `match` ("FIELD=value"). True when the journal cannot be read at
// all, so that what is there is not declared missing.
bool JournalHasEntries(const std::string& match);

}  // namespace nova
