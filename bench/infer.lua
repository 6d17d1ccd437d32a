-- wrk script: OIP infer with one FP32 row of 32 features to wrk.path (set per target).
local values = {}
for i = 1, 32 do values[i] = string.format("%.3f", math.sin(i * 0.7)) end
local body = '{"inputs":[{"name":"X","shape":[1,32],"datatype":"FP32","data":[' ..
  table.concat(values, ",") .. ']}]}'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = body
