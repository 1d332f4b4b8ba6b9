/**
 * `scan-progress` (popup → worker): how far a re-scan has got.
 *
 * GET /api/v1/scan-requests/{id}. When the request has ended (`done` or `failed`) the
 * worker brings the watched tab up to date (badge, banner, labels) before answering,
 * so the popup can redraw from fresh data straight after.
 *
 * Message: `{type: "scan-progress", id}`. Answer: `{request, finished}` or `{error}`.
 */

import { request } from "../api.js";
import { FINISHED, scanFinished } from "../scan-watch.js";
import { requestView } from "./rescan.js";

export default {
  type: "scan-progress",
  from: "extension",
  async handle(message) {
    if (!Number.isInteger(message.id) || message.id < 1) {
      return { error: "no scan request named" };
    }
    try {
      const answer = await request(`/scan-requests/${message.id}`);
      const finished = FINISHED.has(answer.status);
      if (finished) {
        await scanFinished(message.id);
      }
      return { request: requestView(answer), finished };
    } catch (error) {
      return { error: error.message || String(error) };
    }
  },
};

/*
 * Check by hand: the popup's progress line while a re-scan runs, on
 * http://127.0.0.1:PORT/app/!x7Kp2/homepage
 */
