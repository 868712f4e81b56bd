#!/usr/bin/env node
console.log("lantop");
