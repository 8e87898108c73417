/**
 * Set up before each renderer component test (the `dom` project, vitest.config.ts).
 * Testing Library's findBy* and waitFor give up after one second by default, which a CI
 * machine running both test workers beside browsers and servers can exceed. Their
 * deadline bounds a failure only (speed is measured in bench/), so it is long.
 */
import { configure } from '@testing-library/react';
import { UNTIL_DEFAULT_MS } from './until';

configure({ asyncUtilTimeout: UNTIL_DEFAULT_MS / 4 });
