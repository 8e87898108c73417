/** The parts of a matched route that handlers use. */
import type { FhirContext } from '../context';
import type { FhirRequest, FhirResponse } from '../types';

export interface RouteParams {
  type?: string;
  id?: string;
  vid?: string;
  operation?: string;
  /** The resource type searched inside a compartment, or '*'. */
  target?: string;
  /** A file of a bulk export job (`[base]/_export/[job]/[file]`). */
  file?: string;
}

export type Handler = (req: FhirRequest, ctx: FhirContext, route: RouteParams) => Promise<FhirResponse>;
