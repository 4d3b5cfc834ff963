#include "export/exporter.hpp"

#include "export/json_events.hpp"
#include "export/text_events.hpp"

namespace waggle {

std::unique_ptr<Exporter> Exporter::open(const OutputConfig& config, std::string* error) {
  std::unique_ptr<OutputSink> sink = OutputSink::open(config, error);
  if (!sink) return nullptr;
  return std::unique_ptr<Exporter>(new Exporter(config.format, std::move(sink)));
}

Exporter::Exporter(OutputFormat format, std::unique_ptr<OutputSink> sink)
    : format_(format), sink_(std::move(sink)) {
  buffer_.reserve(kChunkBytes + 64 * 1024);
}

Exporter::~Exporter() { flush(); }

void Exporter::on_event(const Event& event) {
  if (format_ == OutputFormat::kJson) {
    const size_t at = buffer_.size();
    append_json_event(buffer_, event);
    if (tap_) tap_(std::string_view(buffer_).substr(at));
  } else {
    append_text_event(buffer_, event);
    if (tap_) {
      tap_line_.clear();
      append_json_event(tap_line_, event);
      tap_(tap_line_);
    }
  }
  ++events_;
  if (buffer_.size() >= kChunkBytes) {
    sink_->write(buffer_);  // a failure is counted by the sink; flush() reports it
    buffer_.clear();
  }
}

bool Exporter::flush() {
  if (!buffer_.empty()) {
    sink_->write(buffer_);
    buffer_.clear();
  }
  sink_->flush();
  const bool ok = sink_->errors() == errors_reported_;
  errors_reported_ = sink_->errors();
  return ok;
}

}  // namespace waggle
