// The official TypeScript SDK (`@modelcontextprotocol/sdk` 1.x) as a stateful Streamable HTTP
// server, for the runner's conformance pack (tests/interop.rs, scripts/conformance-table.sh).
//
// The shape is the SDK's documented stateful example (src/examples/server/simpleStreamableHttp.ts
// in 1.32.2): `createMcpExpressApp()`, a session map filled by `onsessioninitialized` and emptied
// by `onclose`, a new `McpServer` per session, GET and DELETE handed to the session's transport,
// and the example's idle reaper (sessions with nothing open and no activity for IDLE_MS are
// closed, looked for every SWEEP_MS). Only the tool differs: `echo`, which the pack calls.
// IDLE_MS and SWEEP_MS come from the command line instead of being 30 and 1 minutes.
//
// `--unknown-session-status 400` answers an unknown session id the way the example did before
// 1.32 (one `else` branch: 400 "Bad Request: No valid session ID provided"), so the pack can be
// shown to report it.
//
// The port is the kernel's choice; the server prints `listening on http://127.0.0.1:PORT/mcp`
// once it accepts connections, and runs until it is killed.
//
//   node server.mjs --session-timeout 2000 --cleanup-interval 500

import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod/v4';

const { values: options } = parseArgs({
    options: {
        'session-timeout': { type: 'string', default: String(30 * 60000) },
        'cleanup-interval': { type: 'string', default: '60000' },
        'unknown-session-status': { type: 'string', default: '404' }
    }
});
const IDLE_MS = Number(options['session-timeout']);
const SWEEP_MS = Number(options['cleanup-interval']);
const UNKNOWN_SESSION_STATUS = Number(options['unknown-session-status']);

const getServer = () => {
    const server = new McpServer({ name: 'runner-pack-typescript', version: '1.0.0' });
    server.registerTool(
        'echo',
        { description: 'Answers with its argument', inputSchema: { text: z.string() } },
        async ({ text }) => ({ content: [{ type: 'text', text }] })
    );
    return server;
};

const app = createMcpExpressApp();
const sessions = new Map();

// Count open responses so a long-running request or a listening SSE stream is not treated as idle
const trackResponse = (session, res) => {
    if (!res.socket || res.destroyed) return;
    session.open++;
    res.on('close', () => {
        session.open--;
        session.lastActive = Date.now();
    });
};

setInterval(() => {
    const cutoff = Date.now() - IDLE_MS;
    for (const { transport, open, lastActive } of sessions.values()) {
        if (open === 0 && lastActive < cutoff) transport.close().catch(console.error);
    }
}, SWEEP_MS).unref();

const notFound = res =>
    res.status(404).json({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
const noValidSession = res =>
    res.status(400).json({
        jsonrpc: '2.0',
        error: { code: -32000, message: 'Bad Request: No valid session ID provided' },
        id: null
    });

app.post('/mcp', async (req, res) => {
    const sessionId = req.headers['mcp-session-id'];
    try {
        const session = sessionId ? sessions.get(sessionId) : undefined;
        if (session) {
            trackResponse(session, res);
            await session.transport.handleRequest(req, res, req.body);
        } else if (!sessionId && isInitializeRequest(req.body)) {
            const transport = new StreamableHTTPServerTransport({
                sessionIdGenerator: () => randomUUID(),
                onsessioninitialized: id => {
                    sessions.set(id, { transport, open: 0, lastActive: Date.now() });
                }
            });
            transport.onclose = () => {
                if (transport.sessionId) sessions.delete(transport.sessionId);
            };
            await getServer().connect(transport);
            await transport.handleRequest(req, res, req.body);
        } else if (sessionId && UNKNOWN_SESSION_STATUS === 404) {
            notFound(res);
        } else {
            noValidSession(res);
        }
    } catch (error) {
        console.error('Error handling MCP request:', error);
        if (!res.headersSent) {
            res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: null });
        }
    }
});

const sessionRequest = async (req, res) => {
    const sessionId = req.headers['mcp-session-id'];
    if (!sessionId) {
        res.status(400).send('Missing session ID');
        return;
    }
    const session = sessions.get(sessionId);
    if (!session) {
        if (UNKNOWN_SESSION_STATUS === 404) notFound(res);
        else noValidSession(res);
        return;
    }
    trackResponse(session, res);
    await session.transport.handleRequest(req, res);
};
app.get('/mcp', sessionRequest);
app.delete('/mcp', sessionRequest);

const listener = app.listen(0, '127.0.0.1', error => {
    if (error) {
        console.error('Failed to start server:', error);
        process.exit(1);
    }
    console.log(`listening on http://127.0.0.1:${listener.address().port}/mcp`);
});
