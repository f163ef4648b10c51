#!/bin/bash  
set -eu	
	if true; then   
		exec serve --port 8080 	
fi

