// Mints a JWT with the npm `jsonwebtoken` package — an implementation independent
// of closedloop's libjwt — for the authentication tests.
//   node sign_jwt.js KEY_FILE ALG SUBJECT SCOPE [EXPIRES_IN_SECONDS]
const fs = require('fs');
const jwt = require('jsonwebtoken');
const [keyFile, algorithm, subject, scope, expiresIn] = process.argv.slice(2);
const key = fs.readFileSync(keyFile);
process.stdout.write(jwt.sign({ sub: subject, scope }, key, {
  algorithm,
  expiresIn: Number(expiresIn || 600),
  issuer: 'closedloop',
  audience: 'closedloop',
}));
