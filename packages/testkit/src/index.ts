export { median, pooledSigma, medianStandardError, range } from './timing/stats.js';
export {
  judgeDelay,
  judgeAgreement,
  judgeOffset,
  STATED_ACCURACY,
  NOISE_Z,
  type Accuracy,
  type DelayCheck,
  type AgreementCheck,
  type OffsetCheck,
  type Verdict,
} from './timing/verdict.js';
export { runExperiment, expectVerdicts, type Arm, type Experiment, type ExperimentOptions, type Round } from './timing/experiment.js';
export { MachineWatch, describeMachine, SATURATED_BUSY_SHARE, type MachineState } from './timing/machine.js';
export { ReferenceClient, type HttpProbe, type SocketIoAckProbe } from './timing/reference-client.js';
export { doseResponse, DOSE_RESPONSE_ROUNDS, type DoseResponse } from './timing/dose-response.js';
