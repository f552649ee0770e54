import { cpuShareConcurrency } from '../../../local/stack';

/**
 * How many invocations of a function the local stack runs at once: as many as the machine's cores hold at the CPU
 * share Lambda gives the function's memory (one vCPU at 1,769 MB), at least one.
 */
describe('the invocations a function runs at once on the local stack', () => {
  it('on two cores, one of a 2,048 MB function (1.16 vCPU each): two would share the cores with the emulators', () => {
    expect(cpuShareConcurrency(2048, 2)).toBe(1);
  });

  it('on two cores, three of a 1,024 MB function (0.58 vCPU each)', () => {
    expect(cpuShareConcurrency(1024, 2)).toBe(3);
  });

  it('on four cores, three of a 2,048 MB function', () => {
    expect(cpuShareConcurrency(2048, 4)).toBe(3);
  });

  it('at least one, even when one environment wants more than the machine has', () => {
    expect(cpuShareConcurrency(10240, 2)).toBe(1);
    expect(cpuShareConcurrency(1769, 1)).toBe(1);
  });
});
