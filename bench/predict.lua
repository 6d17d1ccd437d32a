-- wrk script: POST /v1/predict with a rotating set of real Banking77 inquiries.
local texts = {
  "I still have not received my new card, when will it arrive?",
  "Why was I charged a fee for my card payment?",
  "I want a refund for this purchase",
  "My top up did not go through",
  "How do I change my PIN?",
  "The exchange rate on my transfer looks wrong",
  "Someone used my card without permission",
  "Can I get a virtual card?",
}
local bodies = {}
for i, t in ipairs(texts) do
  bodies[i] = '{"model":"support-intent","text":"' .. t .. '"}'
end
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format(nil, "/v1/predict", nil, bodies[(n % #bodies) + 1])
end
