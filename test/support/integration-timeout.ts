// Integration tests talk to a real API server and start processes: give them room.
import { jest } from '@jest/globals';

jest.setTimeout(120_000);
