# bash completion for pitr and pitrfs -*- shell-script -*-
# Installed as .../bash-completion/completions/pitr and .../pitrfs.

_pitr()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local cmds="create info events ls cat log diff undo restore policy prune backup verify repair compact"
	local cmd="" i

	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$cmds --help --version" -- "$cur"))
		return
	fi
	case $prev in
	--backup-mode)
		COMPREPLY=($(compgen -W "continuous periodic" -- "$cur"))
		return ;;
	--retention | --interval | --max-doc-size | --at | --since | --until | \
	--database | --container | --gap | --min | --every | --sample)
		return ;;
	--mount)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -d -- "$cur"))
		return ;;
	esac
	if [[ $cur == -* ]]; then
		local opts="--help"
		case $cmd in
		create) opts+=" --backup-mode --retention --interval --max-doc-size --json" ;;
		info | diff | backup) opts+=" --json" ;;
		verify) opts+=" --sample --json" ;;
		policy) opts+=" --retention --backup-mode --json" ;;
		events) opts+=" --database --container --since --until --bulk --gap --min --json" ;;
		ls) opts+=" --at --json" ;;
		cat) opts+=" --at" ;;
		log) opts+=" --every --full --since --until --json" ;;
		undo) opts+=" --at --until --gap --include-later --delete-created --dry-run --json" ;;
		restore) opts+=" --at --database --from-backup --retention --mount --json" ;;
		prune) opts+=" --dry-run --json" ;;
		esac
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	# backup STORE status|flush|set DIR|unset
	if [[ $cmd == backup ]] && ((COMP_CWORD == i + 2)); then
		COMPREPLY=($(compgen -W "status flush set unset" -- "$cur"))
		return
	fi
	compopt -o filenames 2>/dev/null
	COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _pitr pitr

_pitrfs()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local opts="--backup-dir= --backup-url= --s3-endpoint= --s3-region= \
--s3-credentials= --backup-interval= --history-group= \
--sync-interval= --log-file= -f -o --help --version"

	case $prev in
	-o)
		local o="backup_dir= backup_url= s3_endpoint= s3_region= \
s3_credentials= backup_interval= history_group= sync_interval= \
log_file= xattr allow_other allow_root default_permissions ro nodev nosuid noexec"
		COMPREPLY=($(compgen -W "$o" -- "${cur##*,}"))
		[[ $cur == *,* ]] && COMPREPLY=("${COMPREPLY[@]/#/${cur%,*},}")
		compopt -o nospace 2>/dev/null
		return ;;
	esac
	case $cur in
	--history-group=*)
		COMPREPLY=($(compgen -g -- "${cur#*=}"))
		return ;;
	--backup-dir=* | --log-file=* | --s3-credentials=*)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "${cur#*=}"))
		return ;;
	-*)
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		[[ ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
		return ;;
	esac
	compopt -o filenames 2>/dev/null
	COMPREPLY=($(compgen -d -- "$cur"))
}
complete -F _pitrfs pitrfs
