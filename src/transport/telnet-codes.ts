// Telnet's command and option codes, the one table lantop's client, the emulated router's server
// and the test fakes share. Commands: RFC 854. Options: ECHO RFC 857, SUPPRESS-GO-AHEAD RFC 858,
// TERMINAL-TYPE RFC 1091, NAWS (window size) RFC 1073. Plain constants.

/** "Interpret as command": starts every sequence; doubled (IAC IAC) it is a data byte 0xFF. */
export const IAC = 255;
export const DONT = 254;
export const DO = 253;
export const WONT = 252;
export const WILL = 251;
/** Subnegotiation begin (IAC SB option … IAC SE). */
export const SB = 250;
/** Go ahead. */
export const GA = 249;
/** No operation. */
export const NOP = 241;
/** Subnegotiation end. */
export const SE = 240;

export const OPTION_ECHO = 1;
export const OPTION_SUPPRESS_GO_AHEAD = 3;
export const OPTION_TERMINAL_TYPE = 24;
export const OPTION_WINDOW_SIZE = 31;

/** TERMINAL-TYPE subnegotiation: IS carries the name, SEND asks for it. */
export const TERMINAL_TYPE_IS = 0;
export const TERMINAL_TYPE_SEND = 1;
