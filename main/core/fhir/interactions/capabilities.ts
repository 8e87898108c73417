/** capabilities: GET metadata, generated from the route registry (see registry.ts). */
import { respond } from '../types';
import type { Handler } from './route';
import { capabilityStatement } from '../capability-statement';

export const capabilities: Handler = async (req, ctx) => respond(200, capabilityStatement(ctx.defs, req.baseUrl, ctx.compartments.urls, ctx.capabilitySecurity?.(req.baseUrl)));

