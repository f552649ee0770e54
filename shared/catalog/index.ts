export * from './models';
export * from './lookup';
export * from './tokens';
export * from './lifecycle';
