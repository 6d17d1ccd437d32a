-- wrk script: POST the bytes of the file $BODY_FILE; when $HEADER_LENGTH is set,
-- the body is an OIP binary-tensor body (JSON header of that many bytes, then raw
-- tensor data) and the Inference-Header-Content-Length header says so.
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.body = f:read("*a")
f:close()
wrk.method = "POST"
local header_length = os.getenv("HEADER_LENGTH")
if header_length and header_length ~= "" then
  wrk.headers["Content-Type"] = "application/octet-stream"
  wrk.headers["Inference-Header-Content-Length"] = header_length
else
  wrk.headers["Content-Type"] = "application/json"
end
