// One picker per mode, registered by name: a mode is changed (or added) in its own file.
import { pickTwoChoices } from './latency.js';
import { pickLeastConnections } from './least-connections.js';
import type { PickerTable } from './picker.js';
import { pickResourceAware } from './resource-aware.js';
import { pickRoundRobin } from './round-robin.js';

export const PICKERS: PickerTable = {
  'round-robin': pickRoundRobin,
  'least-connections': pickLeastConnections,
  'resource-aware': pickResourceAware,
  latency: pickTwoChoices,
};

export type { PickContext, Picker, PickerSettings, PickerTable } from './picker.js';
