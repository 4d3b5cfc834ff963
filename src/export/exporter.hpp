// Turns events into output lines (JSON or text, per the configuration) and writes them out.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "core/events.hpp"
#include "export/sink.hpp"

namespace waggle {

class Exporter {
 public:
  // Lines are handed to the sink once this much is rendered.
  static constexpr size_t kChunkBytes = OutputSink::kBufferBytes;

  // Opens the output (see OutputSink::open). On failure returns null and sets *error.
  static std::unique_ptr<Exporter> open(const OutputConfig& config, std::string* error);

  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;
  ~Exporter();  // flushes; call flush() first to learn about failures

  // Renders one event. Output is batched: call flush() whenever the event source goes idle so
  // lines do not wait. Not thread-safe.
  void on_event(const Event& event);

  // Writes everything rendered so far. Returns false when some write failed since the last
  // call (on_event's included); error() says what.
  bool flush();

  // Events rendered.
  uint64_t events() const { return events_; }

  // Hands every event's JSON line to `tap` as it is rendered (in the text format, rendered
  // for it too): the agent's recent events for `waggle observe`.
  void set_json_tap(std::function<void(std::string_view)> tap) { tap_ = std::move(tap); }

  // See OutputSink::give_up_when.
  void give_up_when(const volatile sig_atomic_t* stop) { sink_->give_up_when(stop); }

  // The most recent write failure, or empty; errors() counts them.
  const std::string& error() const { return sink_->error(); }
  uint64_t errors() const { return sink_->errors(); }

 private:
  Exporter(OutputFormat format, std::unique_ptr<OutputSink> sink);

  OutputFormat format_;
  std::unique_ptr<OutputSink> sink_;
  std::string buffer_;
  std::function<void(std::string_view)> tap_;
  std::string tap_line_;  // the text format's JSON line for the tap
  uint64_t events_ = 0;
  uint64_t errors_reported_ = 0;  // sink errors already returned by flush()
};

}  // namespace waggle
