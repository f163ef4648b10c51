#!/bin/bash
echo 'café'
exec serve
