// The message format of GET /v1/stream (WebSocket predictions), shared by the
// replica that answers the messages (serving/stream_api) and the gateway that
// relays them to replicas (gateway/stream_relay), so both read and answer a
// message the same way.
//
// A message: {"id": "m1" | 7, "model": "name[@alias]", "text": "...", "top_k": 3}.
// An answer: {"id": <the message's id>, "status": <HTTP status>, ...the members of
// the POST /v1/predict answer or of its {"error": "..."}}.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/request_context.h"
#include "http/router.h"

namespace closedloop {

struct StreamMessage {
  std::string id_json;  // the id as JSON ("\"m1\"" or "7"), echoed in the answer
  std::string model;
  std::string text;
  std::optional<int64_t> top_k;
};

// Parses one text message. On a bad message returns nullopt and sets `refusal`
// to the answer to send (status 400, naming the field).
std::optional<StreamMessage> ParseStreamMessage(std::string_view text, std::string& refusal);

// {"id":ID,"status":S, ...the members of `body`} (`body` a JSON object).
std::string StreamAnswer(std::string_view id_json, unsigned status, std::string_view body);

// The POST /v1/predict body for a message: {"model","text"[,"top_k"]}.
std::string StreamPredictBody(const StreamMessage& message);

// Registers GET /v1/stream: a WebSocket upgrade hands the connection to `handler`
// (status 101; the router keeps it alive); a plain GET is answered 426 with
// Upgrade: websocket.
void RegisterStreamRoute(Router& router, std::shared_ptr<WebSocketHandler> handler);

// The first steps of answering a message: parse it and run the per-message checks.
// Returns the message to answer, or nullopt after replying with the refusal (400,
// or the admission's status, e.g. 429).
std::optional<StreamMessage> AdmitStreamMessage(const WebSocketMessage& m,
                                                const WebSocketReply& reply);

}  // namespace closedloop
