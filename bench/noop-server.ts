/**
 * The HTTP floor for `npm run bench`: Express 5 answering `POST /orders` with 201 and a small
 * JSON body, nothing else (the body is not even parsed). Environment: PORT.
 */
import express from 'express';

const app = express();
app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});
app.post('/orders', (_req, res) => {
  res.status(201).json({ status: 'accepted' });
});
const server = app.listen(Number(process.env.PORT ?? 8081), '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
